"""The same scenario on the simulated cluster and on the real one, compared object by object.

The sample mesh on Istio 1.28.2 plus what makes injection interesting (a namespace selecting the default
revision with ``istio.io/rev=default``, a pod that asks for injection with ``sidecar.istio.io/inject=true`` in a
namespace without labels, an OnDelete StatefulSet; the sample mesh already has every namespace label, a pinned
workload, a Job, a bare pod and a gateway), then ``upgrade.yml`` to 1.29.1 and ``rollback.yml``. After each step
the two clusters must agree on: the namespaces' injection labels, the revision, proxy image and placement
(native sidecar or container) of each workload's sidecars, the Istio webhook configurations (names, labels,
webhooks, their selectors, services, failurePolicy and whether istiod patched a caBundle in), the revision tags,
and what ``mesh_info`` and ``sidecar_audit`` report. A difference is either fixed in the
simulated cluster or listed in KNOWN_DIFFERENCES with its reason (and in tests/simcluster/README.md).
"""
from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.meshops.istio.plugins.modules import mesh_info, sidecar_audit

# the run_module fixture of the module tests
from tests.modules.conftest import run_module  # noqa: F401 pylint: disable=unused-import
from tests.ansible_runner import PlaybookRun, run_collection_playbook
from tests.realcluster import build
from tests.realcluster.cluster import GATEWAY_NAME, INGRESS_NAMESPACE, api_request
from tests.simcluster.cluster import SimCluster
from tests.simcluster.fixtures import controlplane, mesh

SOURCE, TARGET = build.SOURCE, build.TARGET

# Where the two clusters differ on purpose, each with its reason: (aspect, key) -> reason.
KNOWN_DIFFERENCES: dict = {}


def extras() -> list[dict]:
    """Beyond the sample mesh: injection by `istio.io/rev=default`, by a pod label alone, and an OnDelete StatefulSet."""
    ondelete = mesh.statefulset("shop", "orders-db", replicas=1)
    ondelete["spec"]["updateStrategy"] = {"type": "OnDelete"}
    return [
        mesh.namespace("defaulted", {"istio.io/rev": "default"}),
        mesh.namespace("optin"),
        mesh.deployment("defaulted", "catalog", replicas=1, image="docker.io/library/nginx:1.27", port=8080),
        mesh.deployment("optin", "asker", replicas=1, pod_labels={"sidecar.istio.io/inject": "true"},
                        image="docker.io/library/nginx:1.27", port=8080),
        ondelete,
    ]


# ------------------------------------------------------------------------------------------------ reading a cluster

def _api_get(kubeconfig: str, path: str) -> dict:
    return api_request(kubeconfig, "GET", path)


def _owner(pod: dict, replicasets: dict) -> str:
    refs = pod["metadata"].get("ownerReferences") or []
    if not refs:
        return "Pod/" + pod["metadata"]["name"]
    kind, name = refs[0]["kind"], refs[0]["name"]
    if kind == "ReplicaSet":
        rs_refs = replicasets.get((pod["metadata"]["namespace"], name)) or []
        if rs_refs:
            kind, name = rs_refs[0]["kind"], rs_refs[0]["name"]
    return f"{kind}/{name}"


def _selector(selector: dict | None) -> list:
    """A label selector in a comparable form (order of expressions and values does not matter)."""
    selector = selector or {}
    expressions = sorted((e["key"], e["operator"], tuple(sorted(e.get("values") or []))) for e in selector.get("matchExpressions") or [])
    return [sorted((selector.get("matchLabels") or {}).items()), expressions]


def observe(kubeconfig: str, run_module, ca_auth: dict, revision: str) -> dict:  # pylint: disable=redefined-outer-name
    """What the two clusters must agree on, in a comparable form."""
    namespaces = _api_get(kubeconfig, "/api/v1/namespaces")["items"]
    replicasets = {(rs["metadata"]["namespace"], rs["metadata"]["name"]): rs["metadata"].get("ownerReferences")
                   for rs in _api_get(kubeconfig, "/apis/apps/v1/replicasets")["items"]}
    sidecars: dict = {}
    for pod in _api_get(kubeconfig, "/api/v1/pods")["items"]:
        meta = pod["metadata"]
        if meta["namespace"] == "istio-system" or meta.get("deletionTimestamp") or pod.get("status", {}).get("phase") != "Running":
            continue
        status = (meta.get("annotations") or {}).get("sidecar.istio.io/status")
        # the proxy's image and where it runs: an init container with restartPolicy Always (native sidecar) or a container
        images = sorted(f"{where}:{c['image']}" for where, group in (("init", pod["spec"].get("initContainers", [])),
                                                                     ("container", pod["spec"]["containers"]))
                        for c in group if c["name"] == "istio-proxy")
        revision = json.loads(status)["revision"] if status else None
        sidecars.setdefault(f"{meta['namespace']}/{_owner(pod, replicasets)}", []).append(f"{revision} {' '.join(images) or '-'}")
    webhooks = {}
    for kind in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
        for config in _api_get(kubeconfig, f"/apis/admissionregistration.k8s.io/v1/{kind}")["items"]:
            labels = config["metadata"].get("labels") or {}
            if not any(key.startswith("istio.io/") for key in labels):
                continue
            webhooks[f"{kind}/{config['metadata']['name']}"] = {
                "labels": {k: v for k, v in labels.items() if k in ("istio.io/rev", "istio.io/tag", "app")},
                "webhooks": [{"name": hook["name"], "failurePolicy": hook.get("failurePolicy"),
                              "caBundle": bool(hook["clientConfig"].get("caBundle")),
                              "namespaceSelector": _selector(hook.get("namespaceSelector")),
                              "objectSelector": _selector(hook.get("objectSelector")),
                              "service": (hook["clientConfig"].get("service") or {}).get("name"),
                              "path": (hook["clientConfig"].get("service") or {}).get("path"),
                              "rules": sorted(op for rule in hook.get("rules") or [] for op in rule.get("operations") or [])}
                             for hook in config.get("webhooks") or []],
            }
    info = run_module(mesh_info.main, dict(ca_auth))
    assert info.rc == 0, info.result
    audit = run_module(sidecar_audit.main, dict(ca_auth, all_injected=True, revision=revision, report="all"))
    assert audit.rc == 0, audit.result
    return {
        "namespaces": {ns["metadata"]["name"]: {k: v for k, v in (ns["metadata"].get("labels") or {}).items()
                                                if k in ("istio-injection", "istio.io/rev")}
                       for ns in namespaces if not ns["metadata"]["name"].startswith("kube-")},
        "sidecars": {key: sorted(values) for key, values in sidecars.items()},
        "webhooks": webhooks,
        "tags": {t["name"]: t["revision"] for t in info.result["tags"]},
        "mesh_info": {"default_revision": info.result["default_revision"],
                      "default_validator_revision": info.result["default_validator_revision"],
                      "revisions": sorted(r["name"] for r in info.result["revisions"]),
                      "namespaces": {n["name"]: n.get("revision") for n in info.result["namespaces"] if not n["name"].startswith("kube-")}},
        "sidecar_audit": sorted(f"{p['namespace']}/{p['owner']['kind'] or 'Pod'}/{p['owner']['name'] or p['name']} {p['class']}"
                                for p in audit.result["pods"] if p["namespace"] != "istio-system"),
    }


def differences(sim: dict, real: dict) -> list[str]:
    """Every aspect and key where the two observations differ, less the known differences."""
    found = []
    for aspect in sim:
        left, right = sim[aspect], real[aspect]
        if isinstance(left, dict):
            for key in sorted(set(left) | set(right)):
                if left.get(key) != right.get(key) and (aspect, key) not in KNOWN_DIFFERENCES:
                    found.append(f"{aspect} {key}: simulated {left.get(key)!r}, real {right.get(key)!r}")
        elif left != right and (aspect, None) not in KNOWN_DIFFERENCES:
            found.append(f"{aspect}: only simulated {sorted(set(left) - set(right))}, only real {sorted(set(right) - set(left))}")
    return found


# ------------------------------------------------------------------------------------------------ the scenario

def _playbook(name: str, kubeconfig: str, manifest: str, home, *args: str) -> PlaybookRun:
    variables = {"istio_target_version": TARGET.version, "istio_manifests": [manifest], "istio_k8s_auth": {"kubeconfig": kubeconfig},
                 "istio_gateways": [{"name": GATEWAY_NAME, "namespace": INGRESS_NAMESPACE}], "istio_restart_wait_timeout": 120,
                 "istio_restart_poll_interval": 0.5, "istio_restart_batch_size": 20, "istio_gateway_wait_timeout": 120}
    return run_collection_playbook(name, variables, home, *args)


@pytest.fixture
def simulated(tmp_path):
    """A simulated cluster of its own with the same scenario: the sample mesh on the source (its bare pod created
    through the API, so that admission injects it as on a real cluster; the default validator as the base chart
    makes it), the extras, settled."""
    cluster = SimCluster().start()
    try:
        objects = mesh.sample(SOURCE.revision, SOURCE.version) + extras()
        # the real cluster gets its default validator from the base chart (defaultRevision), as a Helm install does,
        # not from `istioctl tag set default`: without the istio.io/tag label
        for obj in objects:
            if obj["kind"] == "ValidatingWebhookConfiguration" and obj["metadata"]["name"] == "istiod-default-validator":
                obj["metadata"]["labels"].pop("istio.io/tag", None)
        cluster.load(objects, admit_pods=True)
        assert cluster.settle(30)
        yield cluster, cluster.write_kubeconfig(str(tmp_path / "sim-kubeconfig"))
    finally:
        cluster.stop()


def _auth(kubeconfig: str) -> dict:
    return {"kubeconfig": kubeconfig}


def test_same_scenario_same_outcome(real_cluster, simulated, run_module, tmp_path):  # pylint: disable=redefined-outer-name
    sim_cluster, sim_kubeconfig = simulated
    real_cluster.load_sample_mesh(SOURCE.version)
    real_cluster.apply(extras())
    assert real_cluster.settle(120)

    sim_manifest = tmp_path / "sim-target.yaml"
    sim_manifest.write_text(yaml.safe_dump_all(controlplane.render(TARGET.revision, TARGET.version)), encoding="utf-8")
    real_manifest = tmp_path / "real-target.yaml"
    real_manifest.write_text(real_cluster.render_istiod(TARGET.version), encoding="utf-8")

    report = []
    for step in ("source", "upgrade", "rollback"):
        if step != "source":
            for kubeconfig, manifest, home in ((sim_kubeconfig, sim_manifest, tmp_path / "h-sim"),
                                               (real_cluster.kubeconfig, real_manifest, tmp_path / "h-real")):
                # the upgrade stops before verify: the OnDelete StatefulSet's pod stays stale (on both clusters)
                args = ("--tags", "control_plane,data_plane,gateways") if step == "upgrade" else ()
                done = _playbook(step, kubeconfig, str(manifest), home, *args)
                assert done.rc == 0, done.output[-9000:]
            assert sim_cluster.settle(60) and real_cluster.settle(120)
        revision = TARGET.revision if step == "upgrade" else SOURCE.revision
        sim_view = observe(sim_kubeconfig, run_module, _auth(sim_kubeconfig), revision)
        real_view = observe(real_cluster.kubeconfig, run_module, _auth(real_cluster.kubeconfig), revision)
        report += [f"after {step}: {line}" for line in differences(sim_view, real_view)]
    assert not report, "\n".join(report)
