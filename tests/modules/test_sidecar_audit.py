"""sidecar_audit against the simulated cluster: classes on a mesh half-way from revision A to B, the gate, cost."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from ansible_collections.meshops.istio.plugins.modules import sidecar_audit
from tests.simcluster.fixtures import controlplane, mesh

REV_A, VERSION_A = "1-27-3", "1.27.3"
REV_B, VERSION_B = "1-29-2", "1.29.2"
MOVED = ("bookinfo", "shop", "payments")


def set_namespace_labels(k8s_client, name: str, labels: dict) -> None:
    """Merge-patch a namespace's labels (None removes one), as a user with kubectl would."""
    k8s.CoreV1Api(k8s_client).patch_namespace(name, {"metadata": {"labels": labels}})


def running_job_pod(namespace: str, name: str) -> dict:
    """A pod owned by a Job that is still running (a long job), labelled for revision A but stored without injection."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": "nightly", "istio.io/rev": REV_A},
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "nightly", "controller": True,
                                              "uid": "5b0c7a52-1111-4d55-9c1e-000000000001"}]},
            "spec": {"restartPolicy": "Always", "containers": [{"name": "nightly", "image": "docker.io/library/busybox:1.36"}]}}


@pytest.fixture
def half_upgraded(sim, k8s_client):
    """The sample mesh on A, then B installed and bookinfo, shop and payments pointed at B (pods not restarted)."""
    sim.load(mesh.sample(REV_A, VERSION_A))
    assert sim.settle(20)
    sim.load(controlplane.render(REV_B, VERSION_B))
    assert sim.settle(20)
    for name in MOVED:
        set_namespace_labels(k8s_client, name, {"istio-injection": None, "istio.io/rev": REV_B})
    sim.clear_requests()
    return sim


def classes_of(result) -> dict:
    """``{namespace/owner-name: {classes}}`` of the pods returned."""
    found: dict = {}
    for pod in result["pods"]:
        key = "%s/%s" % (pod["namespace"], pod["owner"]["name"] or pod["name"])
        found.setdefault(key, set()).add(pod["class"])
    return found


def test_every_class_on_a_half_upgraded_mesh(half_upgraded, sim_auth, run_module, k8s_client):
    half_upgraded.load([running_job_pod("batch", "nightly-x1")])
    assert half_upgraded.settle(20)
    set_namespace_labels(k8s_client, "legacy", {"istio-injection": "enabled"})
    half_upgraded.load([mesh.deployment("legacy", "injected-later", replicas=1)])
    assert half_upgraded.settle(20)
    set_namespace_labels(k8s_client, "legacy", {"istio-injection": "disabled"})
    half_upgraded.clear_requests()

    run = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_B, report="all"))
    assert run.rc == 0 and not run.failed, run.result
    result = run.result
    classes = classes_of(result)
    for workload in ("bookinfo/productpage", "bookinfo/details", "shop/frontend", "shop/cart-db", "shop/node-agent",
                     "payments/ledger", "tagged/api", "batch/worker", "istio-ingress/istio-ingressgateway"):
        assert classes[workload] == {"stale"}, (workload, classes[workload])
    assert classes["shop/legacy-reporter"] == {"unmanaged"}
    assert classes["legacy/monolith"] == {"unmanaged"}
    assert classes["legacy/injected-later"] == {"will_lose_sidecar"}
    assert classes["tagged/debug"] == {"not_restartable"}
    assert classes["batch/nightly"] == {"not_restartable"}

    pods = {(p["namespace"], p["name"]): p for p in result["pods"]}
    debug = pods[("tagged", "debug")]
    assert (debug["needs"], debug["owner"], debug["sidecar"]) == ("missing", {"kind": None, "name": None}, False)
    assert debug["action"] == ("point its namespace, tag or own istio.io/rev label at %s first; bare pod, not rebuilt by a "
                               "restart: delete and recreate it" % REV_B)
    nightly = pods[("batch", "nightly-x1")]
    assert nightly["needs"] == "missing" and nightly["owner"] == {"kind": "Job", "name": "nightly"}
    assert "; pod of Job nightly, not rebuilt by a restart: " in nightly["action"]
    frontend = next(p for p in result["pods"] if p["owner"]["name"] == "frontend")
    assert (frontend["revision"], frontend["version"], frontend["restart_revision"]) == (REV_A, VERSION_A, REV_B)
    assert frontend["reason"] == "sidecar of revision %s, not of the target %s" % (REV_A, REV_B)
    assert frontend["action"] == "restart Deployment shop/frontend"
    worker = next(p for p in result["pods"] if p["owner"]["name"] == "worker")
    assert worker["restart_revision"] == REV_A and "point the namespace or the pod at %s first" % REV_B in worker["reason"]
    assert worker["action"] == "point its namespace, tag or own istio.io/rev label at %s first; restart Deployment batch/worker" % REV_B
    later = next(p for p in result["pods"] if p["owner"]["name"] == "injected-later")
    assert later["action"] == "restart Deployment legacy/injected-later (injection is off for it: it comes back without a sidecar)"

    assert [f["name"].startswith("report-") and f["phase"] == "Succeeded" for f in result["finished"]] == [True]
    summary = result["summary"]
    assert summary["finished"] == 1 and summary["pods"] == len(result["pods"])
    assert summary["by_class"]["will_lose_sidecar"] == 1 and summary["by_class"]["current"] == 0
    assert summary["by_namespace"]["shop"] == {"stale": 7, "unmanaged": 2}
    assert summary["by_version"][VERSION_A] == summary["by_revision"][REV_A]
    assert result["revision"] == REV_B and result["changed"] is False
    assert result["msg"].splitlines()[0].startswith("target revision %s: %d pods in " % (REV_B, summary["pods"]))
    assert result["msg"].splitlines()[1].split() == ["NAMESPACE", "CURRENT", "STALE", "MISSING", "WILL_LOSE_SIDECAR",
                                                     "UNMANAGED", "NOT_RESTARTABLE"]
    assert half_upgraded.writes(persisting_only=False) == []
    assert [(r.verb, r.resource) for r in half_upgraded.requests] == [
        ("list", "namespaces"), ("list", "apps/deployments"),
        ("list", "admissionregistration.k8s.io/mutatingwebhookconfigurations"), ("list", "pods"), ("list", "apps/replicasets")]


def test_restarted_pods_are_current_and_tag_resolves(half_upgraded, sim_auth, run_module, k8s_client):
    k8s.AppsV1Api(k8s_client).patch_namespaced_deployment(
        "frontend", "shop", {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}}}}})
    assert half_upgraded.settle(20)
    run = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_B, namespaces=["shop"], report="all"))
    frontend = [p for p in run.result["pods"] if p["owner"]["name"] == "frontend"]
    assert {(p["class"], p["revision"], p["version"]) for p in frontend} == {("current", REV_B, VERSION_B)}

    run = run_module(sidecar_audit.main, dict(sim_auth, revision=mesh.TAG_NAME, namespaces=["tagged"]))
    assert (run.result["revision"], run.result["revision_requested"]) == (REV_A, mesh.TAG_NAME)
    assert run.result["summary"]["by_class"]["current"] == 2
    assert [p["name"] for p in run.result["pods"]] == ["debug"]


def test_without_revision_a_sidecar_is_right_when_a_restart_would_give_the_same(half_upgraded, sim_auth, run_module):
    run = run_module(sidecar_audit.main, dict(sim_auth, namespaces=["tagged", "shop"], report="none"))
    assert run.result["revision"] is None and run.result["pods"] == []
    assert run.result["summary"]["by_namespace"]["tagged"] == {"current": 2, "not_restartable": 1}
    assert run.result["summary"]["by_namespace"]["shop"] == {"stale": 7, "unmanaged": 2}


def test_gate_fails_naming_the_pods_and_passes_when_clean(half_upgraded, sim_auth, run_module):
    run = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_B, namespaces=["payments", "legacy"],
                                              fail_on=["stale", "missing"]))
    assert run.failed and run.rc == 1
    ledger = sorted(p["name"] for p in run.result["pods"])
    assert run.result["msg"].startswith(
        "Gate refused, nothing was changed: 2 pods are in class stale or missing (fail_on): payments/%s (restart Deployment "
        "payments/ledger; stale: sidecar of revision %s, not of the target %s)" % (ledger[0], REV_A, REV_B))
    assert "payments/" + ledger[1] in run.result["msg"]

    run = run_module(sidecar_audit.main, dict(sim_auth, revision=mesh.TAG_NAME, namespaces=["batch", "legacy"], gate=True))
    assert not run.failed and run.rc == 0, run.result


def bare_pod_through_admission(k8s_client, namespace: str, name: str) -> dict:
    """Create a bare pod through the API, so that the webhooks inject it as they would on a real cluster."""
    k8s.CoreV1Api(k8s_client).create_namespaced_pod(namespace, mesh.bare_pod(namespace, name))
    return k8s.CoreV1Api(k8s_client).read_namespaced_pod(name, namespace).to_dict()


def test_gate_refuses_a_stale_bare_pod_that_fail_on_lets_through(half_upgraded, sim_auth, run_module, k8s_client):
    """Issue 8, item 4: a bare pod on the old sidecar is not_restartable; the gate refuses it and says what it needs."""
    shell = bare_pod_through_admission(k8s_client, "tagged", "shell")
    assert '"revision":"%s"' % REV_A in shell["metadata"]["annotations"]["sidecar.istio.io/status"].replace(" ", "")
    # the tag moves to B as the data plane stage does; tagged/api is restarted, the bare pods cannot be
    half_upgraded.load(controlplane.render_tag(mesh.TAG_NAME, REV_B, VERSION_B))
    k8s.AppsV1Api(k8s_client).patch_namespaced_deployment(
        "api", "tagged", {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}})
    assert half_upgraded.settle(20)
    half_upgraded.clear_requests()

    args = dict(sim_auth, revision=REV_B, namespaces=["tagged"])
    run = run_module(sidecar_audit.main, dict(args, fail_on=["stale", "missing"]))
    assert not run.failed, run.result  # classes alone: both bare pods are not_restartable, not stale or missing

    run = run_module(sidecar_audit.main, dict(args, gate=True))
    assert run.failed and run.rc == 1
    first = run.result["msg"].splitlines()[0]
    assert first.startswith("Gate refused, nothing was changed: 2 pods are not running the sidecar of revision %s: " % REV_B)
    assert ("tagged/shell (bare pod, not rebuilt by a restart: delete and recreate it; not_restartable, needs stale: "
            "sidecar of revision %s, not of the target %s)" % (REV_A, REV_B)) in first
    assert "tagged/debug (bare pod, not rebuilt by a restart: delete and recreate it; not_restartable, needs missing: " in first
    assert {(p["name"], p["needs"]) for p in run.result["pods"]} == {("shell", "stale"), ("debug", "missing")}
    assert half_upgraded.writes(persisting_only=False) == []

    # the operator recreates one and deletes the other: the gate passes
    k8s.CoreV1Api(k8s_client).delete_namespaced_pod("shell", "tagged", grace_period_seconds=0)
    k8s.CoreV1Api(k8s_client).delete_namespaced_pod("debug", "tagged", grace_period_seconds=0)
    assert half_upgraded.settle(20)
    shell = bare_pod_through_admission(k8s_client, "tagged", "shell")
    assert '"revision":"%s"' % REV_B in shell["metadata"]["annotations"]["sidecar.istio.io/status"].replace(" ", "")
    run = run_module(sidecar_audit.main, dict(args, gate=True))
    assert not run.failed, run.result["msg"]


def test_gate_refuses_an_old_sidecar_a_restart_would_remove(half_upgraded, sim_auth, run_module, k8s_client):
    """A pod still on A where injection was turned off: the gate to B refuses it, the gate to A does not."""
    set_namespace_labels(k8s_client, "legacy", {"istio-injection": "enabled"})
    half_upgraded.load([mesh.deployment("legacy", "injected-later", replicas=1)])
    assert half_upgraded.settle(20)
    set_namespace_labels(k8s_client, "legacy", {"istio-injection": "disabled"})
    run = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_B, namespaces=["legacy"], gate=True))
    assert run.failed and "(restart Deployment legacy/injected-later (injection is off for it: it comes back without a " \
                          "sidecar); will_lose_sidecar: " in run.result["msg"]
    run = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_A, namespaces=["legacy"], gate=True))
    assert not run.failed, run.result["msg"]


def test_gate_names_the_first_twenty_and_counts_the_rest(sim, sim_auth, run_module):
    sim.load(mesh.large(namespaces=3, pods_per_namespace=10, revision=REV_A, version=VERSION_A))
    sim.load(controlplane.render(REV_B, VERSION_B))
    assert sim.settle(20)
    run = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_B, all_injected=True, fail_on=["stale"]))
    assert run.failed
    assert run.result["msg"].startswith("Gate refused, nothing was changed: 30 pods are in class stale (fail_on): ")
    assert run.result["msg"].splitlines()[0].endswith("; ... and 10 more. Do what each pod needs, then run the audit again.")
    run = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_B, all_injected=True, gate=True))
    assert run.failed and run.result["msg"].startswith("Gate refused, nothing was changed: 30 pods are not running the "
                                                       "sidecar of revision %s: ns-00000/app-" % REV_B)


def test_one_audit_of_a_mid_size_mesh_costs_a_few_lists(sim, sim_auth, run_module):
    sim.controllers.stop()  # a read-only audit needs no controllers; the next test's reset starts them again
    sim.store.load(mesh.large(namespaces=200, pods_per_namespace=3, revision=REV_A, version=VERSION_A))
    sim.clear_requests()
    run = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_A, all_injected=True, report="none"))
    assert not run.failed, run.result
    assert run.result["summary"]["pods"] == 600 and run.result["summary"]["by_class"]["current"] == 600
    requests = sim.requests
    assert {(r.verb, r.namespace) for r in requests} == {("list", "")}
    # one LIST per kind, the 600 pods in one page: nothing grows with the number of pods or namespaces
    assert [r.resource for r in requests] == ["namespaces", "apps/deployments", "admissionregistration.k8s.io/mutatingwebhookconfigurations",
                                              "pods", "apps/replicasets"]


@pytest.mark.parametrize("args, message", [
    ({"revision": "1.29.2"}, "revision: revision '1.29.2' is not a DNS-1123 label"),
    ({"revision": "9-9-9"}, "revision '9-9-9' is neither an installed revision (1-27-3, 1-29-2) nor a revision tag (default, prod-stable)"),
    ({"namespaces": ["shop", "nowhere"]}, "namespace nowhere not found: create it or remove it from namespaces"),
    ({"namespaces": ["shop"], "all_injected": True}, "namespaces and all_injected are mutually exclusive"),
])
def test_bad_input_fails_with_what_and_where(half_upgraded, sim_auth, run_module, args, message):
    run = run_module(sidecar_audit.main, dict(sim_auth, **args))
    assert run.failed and message in run.result["msg"], run.result["msg"]
    assert half_upgraded.writes(persisting_only=False) == []


def test_no_access_to_pods_says_what_was_refused(half_upgraded, sim_auth, run_module):
    half_upgraded.add_fault(path="/api/v1/pods", status=403,
                            message='pods is forbidden: User "ci" cannot list resource "pods" in API group "" at the cluster scope')
    run = run_module(sidecar_audit.main, dict(sim_auth, namespaces=["shop"]))
    assert run.failed and run.result["msg"].startswith("forbidden: cannot list pods (cluster-wide)")


def test_moving_from_lists_what_a_restart_will_not_move(sim, sim_auth, run_module):
    """On the sample mesh before any upgrade (the pods all current), what a move off A needs beyond restarts."""
    objects = mesh.sample(REV_A, VERSION_A)
    for obj in objects:
        if obj["kind"] == "StatefulSet" and obj["metadata"]["name"] == "cart-db":
            obj["spec"]["updateStrategy"] = {"type": "OnDelete"}
    sim.load(objects)
    sim.load([running_job_pod("batch", "nightly-x1")])
    assert sim.settle(20)
    sim.clear_requests()

    result = run_module(sidecar_audit.main, dict(sim_auth, moving_from=REV_A)).result
    found = {(e["namespace"], e["kind"], e["name"], e["issue"]): e for e in result["move_attention"]}
    assert set(found) == {
        ("shop", "StatefulSet", "cart-db", "on_delete"),
        ("tagged", "Pod", "debug", "not_rebuilt"),
        ("batch", "Job", "nightly", "not_rebuilt"),
        ("batch", "Job", "nightly", "pins_revision"),
        ("batch", "Deployment", "worker", "pins_revision"),
        ("istio-ingress", "Deployment", "istio-ingressgateway", "pins_revision"),
    }, result["move_attention"]
    assert "it is a gateway" in found[("istio-ingress", "Deployment", "istio-ingressgateway", "pins_revision")]["action"]
    assert "OnDelete" in found[("shop", "StatefulSet", "cart-db", "on_delete")]["action"]
    assert len(found[("shop", "StatefulSet", "cart-db", "on_delete")]["pods"]) == 2
    assert "delete and recreate it" in found[("tagged", "Pod", "debug", "not_rebuilt")]["action"]
    assert "pod template of Deployment worker" in found[("batch", "Deployment", "worker", "pins_revision")]["action"]
    kinds = {r.resource for r in sim.requests if r.verb == "list"}
    assert {"apps/statefulsets", "apps/daemonsets"} <= kinds and not sim.writes()

    without = run_module(sidecar_audit.main, dict(sim_auth)).result
    assert "move_attention" not in without


def test_moving_from_must_be_a_revision(sim, sim_auth, run_module):
    failed = run_module(sidecar_audit.main, dict(sim_auth, moving_from="1.27.3"))
    assert failed.rc == 1 and "moving_from: revision '1.27.3' is not a DNS-1123 label" in failed.result["msg"], failed.result
    assert not sim.requests
