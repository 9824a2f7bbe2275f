"""workload_restart against the simulated cluster: waves, rollout waiting, failures, check mode, idempotence."""

from __future__ import annotations

import json

import pytest
from kubernetes import client as k8s

from ansible_collections.meshops.istio.plugins.modules import sidecar_audit, workload_restart
from tests.simcluster.fixtures import controlplane, mesh

REV_A, VERSION_A = "1-27-3", "1.27.3"
REV_B, VERSION_B = "1-29-2", "1.29.2"
MOVED = ["bookinfo", "payments", "shop"]
# (namespace, kind, name) in the order the waves take them
STALE_ON_B = [("bookinfo", "Deployment", "details"), ("bookinfo", "Deployment", "productpage"),
              ("bookinfo", "Deployment", "reviews-v1"), ("payments", "Deployment", "ledger"),
              ("shop", "DaemonSet", "node-agent"), ("shop", "Deployment", "frontend"), ("shop", "StatefulSet", "cart-db")]
FAST = {"poll_interval": 0.1, "wait_timeout": 30}


def set_namespace_labels(k8s_client, name: str, labels: dict) -> None:
    """Merge-patch a namespace's labels (None removes one)."""
    k8s.CoreV1Api(k8s_client).patch_namespace(name, {"metadata": {"labels": labels}})


@pytest.fixture
def half_upgraded(sim, k8s_client):
    """The sample mesh on A, then B installed and bookinfo, payments and shop pointed at B (pods not restarted)."""
    sim.load(mesh.sample(REV_A, VERSION_A))
    assert sim.settle(20)
    sim.load(controlplane.render(REV_B, VERSION_B))
    assert sim.settle(20)
    for name in MOVED:
        set_namespace_labels(k8s_client, name, {"istio-injection": None, "istio.io/rev": REV_B})
    sim.clear_requests()
    return sim


def warning_texts(result: dict) -> list[str]:
    """The warnings of a module result (ansible-core 2.19 returns them as structured summaries)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings") or []]


def triples(items) -> list:
    return [(item["namespace"], item["kind"], item["name"]) for item in items]


def sidecar_revisions(sim, namespace: str) -> set:
    """The sidecar revisions of the running pods of a namespace, read from the store (None: no sidecar)."""
    found = set()
    for pod in sim.store.list("pods", namespace)[0]:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") or pod["metadata"].get("deletionTimestamp"):
            continue
        status = (pod["metadata"].get("annotations") or {}).get("sidecar.istio.io/status")
        found.add(json.loads(status)["revision"] if status else None)
    return found


def test_waves_of_two_rebuild_the_stale_workloads_then_the_gate_passes(half_upgraded, sim_auth, run_module):
    run = run_module(workload_restart.main, dict(sim_auth, revision=REV_B, namespaces=MOVED, batch_size=2, **FAST), diff=True)
    assert run.rc == 0 and not run.failed, run.result
    result = run.result
    assert [triples(wave) for wave in result["waves"]] == [STALE_ON_B[0:2], STALE_ON_B[2:4], STALE_ON_B[4:6], STALE_ON_B[6:]]
    assert triples(result["restarted"]) == STALE_ON_B
    assert {(r["wave"], r["rollout"]) for r in result["restarted"][:2]} == {(1, "complete")}
    assert result["failed_rollouts"] == [] and result["not_reached"] == [] and result["changed"] is True
    assert result["msg"] == "restarted 7 workloads in 4 waves for revision %s; 0 not restartable; 0 skipped" % REV_B
    assert set(result["diff"]["before"]) == {"%s/%s/%s" % t for t in STALE_ON_B}
    for namespace in MOVED:
        assert sidecar_revisions(half_upgraded, namespace) <= {REV_B, None}, namespace

    patches = [r for r in half_upgraded.writes() if r.resource != "events"]
    assert {(r.method, r.resource, r.namespace, r.name) for r in patches if r.user_agent.startswith("meshops.istio/")} == {
        ("PATCH", {"Deployment": "apps/deployments", "StatefulSet": "apps/statefulsets", "DaemonSet": "apps/daemonsets"}[kind],
         namespace, name) for namespace, kind, name in STALE_ON_B}
    template = half_upgraded.store.get("apps/deployments", "shop", "frontend")["spec"]["template"]["metadata"]["annotations"]
    assert template["kubectl.kubernetes.io/restartedAt"].endswith("Z")

    gate = run_module(sidecar_audit.main, dict(sim_auth, revision=REV_B, namespaces=MOVED, fail_on=["stale", "missing"]))
    assert not gate.failed, gate.result["msg"]

    half_upgraded.clear_requests()
    again = run_module(workload_restart.main, dict(sim_auth, revision=REV_B, namespaces=MOVED, batch_size=2, **FAST))
    assert again.result["changed"] is False and again.result["waves"] == [] and again.result["restarted"] == []
    assert [r for r in half_upgraded.writes(persisting_only=False) if r.user_agent.startswith("meshops.istio/")] == []


def test_check_mode_lists_the_waves_and_persists_nothing(half_upgraded, sim_auth, run_module):
    run = run_module(workload_restart.main, dict(sim_auth, revision=REV_B, namespaces=MOVED, batch_size=3, **FAST), check_mode=True)
    assert run.result["changed"] is True
    assert [triples(wave) for wave in run.result["waves"]] == [STALE_ON_B[0:3], STALE_ON_B[3:6], STALE_ON_B[6:]]
    assert {r["rollout"] for r in run.result["restarted"]} == {"not_waited"}
    assert run.result["msg"].startswith("would restart 7 workloads in 3 waves")
    ours = [r for r in half_upgraded.requests if r.user_agent.startswith("meshops.istio/")]
    assert half_upgraded.writes() == []
    assert {(r.method, r.dry_run) for r in ours if r.is_write} == {("PATCH", True)}
    assert sidecar_revisions(half_upgraded, "bookinfo") == {REV_A}


def test_a_broken_revision_stops_at_the_first_failed_wave(half_upgraded, sim_auth, run_module, k8s_client):
    half_upgraded.settings.broken_revisions = {REV_B}
    k8s.AppsV1Api(k8s_client).patch_namespaced_deployment("details", "bookinfo", {"spec": {"progressDeadlineSeconds": 1}})
    assert half_upgraded.settle(20)
    run = run_module(workload_restart.main, dict(sim_auth, revision=REV_B, namespaces=["bookinfo"], batch_size=2,
                                                 poll_interval=0.2, wait_timeout=4))
    assert run.failed and run.rc == 1
    result = run.result
    assert triples(result["restarted"]) == STALE_ON_B[0:2]
    failed = {f["name"]: f for f in result["failed_rollouts"]}
    assert failed["details"]["rollout"] == "failed"
    assert failed["details"]["message"] == 'deployment "details" exceeded its progress deadline'
    assert triples(result["not_reached"]) == [STALE_ON_B[2]] and result["not_reached"][0]["wave"] == 2
    assert result["msg"].startswith("wave 1 of 2: bookinfo/Deployment/details failed (deployment \"details\" exceeded its progress "
                                    "deadline)")
    assert "1 workload not reached" in result["msg"]
    reviews = half_upgraded.store.get("apps/deployments", "bookinfo", "reviews-v1")
    assert "kubectl.kubernetes.io/restartedAt" not in (reviews["spec"]["template"]["metadata"].get("annotations") or {})


def test_a_rollout_that_never_completes_times_out(half_upgraded, sim_auth, run_module):
    half_upgraded.settings.broken_revisions = {REV_B}
    run = run_module(workload_restart.main, dict(sim_auth, revision=REV_B, namespaces=["payments"], poll_interval=0.2, wait_timeout=1))
    assert run.failed
    assert [(f["name"], f["rollout"]) for f in run.result["failed_rollouts"]] == [("ledger", "timed_out")]
    assert run.result["failed_rollouts"][0]["message"].startswith("timed out after 1s: Waiting for deployment \"ledger\" rollout to finish")


def test_will_lose_sidecar_is_skipped_with_a_warning_unless_allowed(half_upgraded, sim_auth, run_module, k8s_client):
    set_namespace_labels(k8s_client, "payments", {"istio.io/rev": None, "istio-injection": "disabled"})
    args = dict(sim_auth, namespaces=["payments"], classes=["stale", "will_lose_sidecar"], **FAST)
    run = run_module(workload_restart.main, args)
    assert run.result["changed"] is False and run.result["restarted"] == []
    assert triples(run.result["skipped"]) == [("payments", "Deployment", "ledger")]
    assert any("would lose their sidecar" in w and "allow_sidecar_removal=true" in w for w in warning_texts(run.result))
    assert sidecar_revisions(half_upgraded, "payments") == {REV_A}

    run = run_module(workload_restart.main, dict(args, allow_sidecar_removal=True))
    assert not run.failed, run.result
    assert triples(run.result["restarted"]) == [("payments", "Deployment", "ledger")]
    assert any("removes the sidecar" in w for w in warning_texts(run.result))
    assert sidecar_revisions(half_upgraded, "payments") == {None}


def test_what_cannot_be_restarted_is_listed_with_the_reason(half_upgraded, sim_auth, run_module, k8s_client):
    k8s.AppsV1Api(k8s_client).patch_namespaced_stateful_set("cart-db", "shop", {"spec": {"updateStrategy": {"type": "OnDelete",
                                                                                                            "rollingUpdate": None}}})
    assert half_upgraded.settle(20)
    run = run_module(workload_restart.main, dict(sim_auth, revision=REV_B, namespaces=["shop"], **FAST))
    assert not run.failed, run.result
    blocked = {item["name"]: item for item in run.result["not_restartable"]}
    assert blocked["cart-db"]["kind"] == "StatefulSet" and blocked["cart-db"]["reason"].startswith("updateStrategy OnDelete")
    assert len(blocked["cart-db"]["pods"]) == 2
    assert triples(run.result["restarted"]) == [("shop", "DaemonSet", "node-agent"), ("shop", "Deployment", "frontend")]

    run = run_module(workload_restart.main, dict(sim_auth, namespaces=["tagged"], **FAST))
    assert run.result["changed"] is False
    assert run.result["not_restartable"] == [{"namespace": "tagged", "kind": "Pod", "name": "debug", "pods": ["debug"],
                                              "reason": "bare pod, not rebuilt by a restart: delete and recreate it"}]


@pytest.mark.parametrize("args, message", [
    ({"batch_size": 0}, "batch_size must be at least 1, not 0"),
    ({"revision": "7-7-7"}, "revision '7-7-7' is neither an installed revision (1-27-3, 1-29-2) nor a revision tag"),
    ({"namespaces": ["bookinfo", "ghost"]}, "namespace ghost not found"),
    ({"namespaces": ["bookinfo"], "namespace_selector": ["team=a"]}, "namespaces and namespace_selector are mutually exclusive"),
    ({"workloads": ["bookinfo/details"]}, "workloads entry 'bookinfo/details' is not namespace/Kind/name"),
    ({"workloads": ["bookinfo/Pod/debug"]}, "workloads entry 'bookinfo/Pod/debug' is not namespace/Kind/name with Kind one of"),
])
def test_bad_input_fails_before_any_write(half_upgraded, sim_auth, run_module, args, message):
    run = run_module(workload_restart.main, dict(sim_auth, **dict({"namespaces": MOVED, "revision": REV_B}, **args)))
    assert run.failed and message in run.result["msg"], run.result["msg"]
    assert half_upgraded.writes(persisting_only=False) == []


def test_as_ansible_runs_it_restart_then_gate(half_upgraded, sim_kubeconfig, tmp_path, ansible_playbook):
    out = tmp_path / "result.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(f"""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/meshops.istio.istio:
      kubeconfig: {sim_kubeconfig}
  tasks:
    - name: Restart what is stale in payments
      meshops.istio.workload_restart:
        revision: {REV_B}
        namespaces: [payments]
        poll_interval: 0.1
        wait_timeout: 30
      register: restarted
    - name: Gate
      meshops.istio.sidecar_audit:
        revision: {REV_B}
        namespaces: [payments]
        fail_on: [stale, missing]
      register: gate
    - name: Keep the results
      ansible.builtin.copy:
        content: "{{{{ {{'restarted': restarted, 'gate': gate}} | to_json }}}}"
        dest: {out}
        mode: "0600"
""")
    completed = ansible_playbook(playbook)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(out.read_text())
    assert triples(result["restarted"]["restarted"]) == [("payments", "Deployment", "ledger")]
    assert result["gate"]["summary"]["by_class"]["current"] == 2


def test_workloads_restarts_only_those_named(half_upgraded, sim_auth, run_module):
    """One wave as the role runs it: only the workloads named, the others in scope untouched; one named that is current
    by now is left alone."""
    named = ["bookinfo/Deployment/details", "payments/Deployment/ledger", "bookinfo/Deployment/no-such"]
    run = run_module(workload_restart.main, dict(sim_auth, revision=REV_B, namespaces=MOVED, workloads=named,
                                                 batch_size=3, poll_interval=0.2, wait_timeout=30))
    assert run.rc == 0, run.result
    assert triples(run.result["restarted"]) == [("bookinfo", "Deployment", "details"), ("payments", "Deployment", "ledger")]
    assert len(run.result["wave_seconds"]) == 1 and isinstance(run.result["wave_seconds"][0], float) and run.result["wave_seconds"][0] >= 0
    patched = {(r.namespace, r.name) for r in half_upgraded.writes() if r.resource == "apps/deployments"}
    assert patched == {("bookinfo", "details"), ("payments", "ledger")}
    again = run_module(workload_restart.main, dict(sim_auth, revision=REV_B, namespaces=MOVED, workloads=named[:2],
                                                   poll_interval=0.2))
    assert again.rc == 0 and again.result["changed"] is False and again.result["restarted"] == []
