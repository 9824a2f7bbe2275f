"""Helpers for the playbook tests: the sample mesh, the target's manifest, and ansible-playbook runs against the sim."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshops.istio.plugins.modules import mesh_control_plane

from tests.ansible_runner import PlaybookRun, run_collection_playbook
from tests.simcluster.fixtures import controlplane, mesh

SOURCE, SOURCE_VERSION = "1-27-3", "1.27.3"
TARGET, TARGET_VERSION = "1-28-1", "1.28.1"


# how a gate names the sample mesh's bare pod while it runs another revision's sidecar (% (its revision, the gate's))
DEBUG_REFUSED = ("tagged/debug (bare pod, not rebuilt by a restart: delete and recreate it; not_restartable, needs stale: "
                 "sidecar of revision %s, not of the target %s)")
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


def writes_after_the_gate(requests: list[dict]) -> list[str]:
    """The writes that changed state after the last LIST of pods (a gate's audit reads pods last, and a refused gate
    ends the play), from either cluster's request log as dicts (verb, resource, namespace, name, dry_run, status)."""
    gate = max(index for index, r in enumerate(requests) if r["verb"] == "list" and r["resource"] == "pods")
    return ["%s %s %s/%s" % (r["verb"], r["resource"], r["namespace"], r["name"]) for r in requests[gate + 1:]
            if r["verb"] in WRITE_VERBS and not r["dry_run"] and 0 < r["status"] < 400]


def write_yaml(path, objects: list[dict]) -> str:
    """Write ``objects`` as multi-document YAML; return the path."""
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump_all(objects, handle)
    return str(path)


def source_installed_with_manifest(sim, kubeconfig: str) -> None:
    """Apply the source revision's objects with mesh_control_plane (installer manifest), as Ansible runs it in-process.

    The sample mesh is loaded without an installer's record; finalize removes the source with the installer that
    recorded it, so the record (ConfigMap meshops-istio-manifest-<source>) must exist.
    """
    args = {"revision": SOURCE, "version": SOURCE_VERSION, "manifest_content": controlplane.render(SOURCE, SOURCE_VERSION),
            "kubeconfig": kubeconfig, "_ansible_check_mode": False, "_ansible_diff": False}
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        mesh_control_plane.main()
    assert not exited.value.code, "installing the source revision's record failed"
    sim.settle(20)


def mesh_state(namespaces: list, tags: list, pods: list, gateway: dict, istiods: list, record: dict | None) -> dict:
    """What the upgrade changes, from the objects read (by either cluster's tests): namespace injection labels, tags,
    the gateway's label, the revisions and proxy images of the running pods' sidecars, the istiod Deployments and
    the record's stage."""
    sidecars, images = {}, {}
    for pod in pods:
        meta = pod["metadata"]
        status = (meta.get("annotations") or {}).get("sidecar.istio.io/status")
        if not status or pod.get("status", {}).get("phase") != "Running" or meta.get("deletionTimestamp"):
            continue
        sidecars.setdefault(meta["namespace"], set()).add(json.loads(status)["revision"])
        for container in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]:
            if container["name"] == "istio-proxy":
                images.setdefault(meta["namespace"], set()).add(container["image"])
    return {
        "labels": {ns["metadata"]["name"]: {k: v for k, v in (ns["metadata"].get("labels") or {}).items()
                                            if k in ("istio-injection", "istio.io/rev")} for ns in namespaces},
        "tags": {t["metadata"]["labels"]["istio.io/tag"]: t["metadata"]["labels"]["istio.io/rev"] for t in tags},
        "gateway": gateway["spec"]["template"]["metadata"]["labels"].get("istio.io/rev"),
        "sidecars": sidecars,
        "images": images,
        "istiods": sorted(d["metadata"]["name"] for d in istiods),
        "stage": (record or {}).get("data", {}).get("stage"),
    }


def state(sim) -> dict:
    """``mesh_state`` of the simulated cluster, read from its store."""
    return mesh_state(sim.store.list("namespaces")[0],
                      sim.store.list("admissionregistration.k8s.io/mutatingwebhookconfigurations", label_selector="istio.io/tag")[0],
                      sim.store.list("pods")[0],
                      sim.store.get("apps/deployments", mesh.INGRESS_NAMESPACE, "istio-ingressgateway"),
                      sim.store.list("apps/deployments", "istio-system")[0],
                      sim.store.get("configmaps", "istio-system", "meshops-istio-upgrade"))


@pytest.fixture
def sample_mesh(sim):
    """The sample mesh on the source revision, settled; its bare pod tagged/debug created through admission, so that
    it runs the source's sidecar, as on the real cluster."""
    sim.load(mesh.sample(SOURCE, SOURCE_VERSION), admit_pods=True)
    sim.settle(20)
    return sim


@pytest.fixture
def run_playbook(sim_kubeconfig, tmp_path):
    """Run playbooks/<name>.yml with the manifest installer for the target and ``extra`` variables."""
    target_manifest = write_yaml(tmp_path / "target.yaml", controlplane.render(TARGET, TARGET_VERSION))

    def run(name: str, *args: str, env: dict | None = None, **extra) -> PlaybookRun:
        variables = {"istio_target_version": TARGET_VERSION, "istio_manifests": [target_manifest],
                     "istio_k8s_auth": {"kubeconfig": sim_kubeconfig},
                     "istio_gateways": [{"name": "istio-ingressgateway", "namespace": mesh.INGRESS_NAMESPACE}],
                     "istio_restart_wait_timeout": 60, "istio_restart_poll_interval": 0.2, "istio_restart_batch_size": 20,
                     "istio_gateway_wait_timeout": 60}
        variables.update(extra)
        return run_collection_playbook(name, variables, tmp_path / "ansible-home", *args, timeout=600, env=env)

    return run
