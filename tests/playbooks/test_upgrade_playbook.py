"""upgrade.yml and rollback.yml against the simulated cluster, loaded with the sample mesh on the source revision."""

from __future__ import annotations

from tests.playbooks.conftest import SOURCE, TARGET, source_installed_with_manifest, state


def test_check_upgrade_rerun_and_rollback(sample_mesh, run_playbook):
    before = state(sample_mesh)
    assert before["sidecars"]["bookinfo"] == {SOURCE} and before["tags"]["prod-stable"] == SOURCE

    sample_mesh.clear_requests()
    plan = run_playbook("upgrade", "--check", "--diff")
    assert plan.rc == 0, plan.output
    assert not sample_mesh.writes(), [f"{r.verb} {r.resource} {r.namespace}/{r.name}" for r in sample_mesh.writes()]
    assert "istiod-" + TARGET in plan.output and "Waves: " in plan.output
    assert f"Namespaces to point at {TARGET}: bookinfo enabled -" in plan.output
    assert "bookinfo/Deployment/productpage" in plan.output and "Gateways to move (in_place): istio-ingress/istio-ingressgateway" in plan.output, plan.output
    assert state(sample_mesh) == before

    done = run_playbook("upgrade")
    assert done.rc == 0, done.output
    after = state(sample_mesh)
    for name in ("bookinfo", "shop", "payments"):
        assert after["labels"][name] == {"istio.io/rev": TARGET}, name
        assert after["sidecars"][name] == {TARGET}, name
    assert after["labels"]["tagged"] == {"istio.io/rev": "prod-stable"}  # it follows its tag, which moved
    assert after["tags"] == {"default": SOURCE, "prod-stable": TARGET}
    assert after["labels"]["legacy"] == {"istio-injection": "disabled"}
    assert after["gateway"] == TARGET and after["sidecars"]["istio-ingress"] == {TARGET}
    assert after["istiods"] == ["istiod-" + SOURCE, "istiod-" + TARGET] and after["stage"] == "verify"

    again = run_playbook("upgrade")
    assert again.rc == 0 and again.changed == 0, again.output

    back = run_playbook("rollback")
    assert back.rc == 0, back.output
    restored = state(sample_mesh)
    assert restored["labels"] == before["labels"] and restored["tags"] == before["tags"]
    assert restored["gateway"] == before["gateway"] == SOURCE
    assert restored["sidecars"] == before["sidecars"]
    assert restored["istiods"] == ["istiod-" + SOURCE] and restored["stage"] == "rolled_back"


def test_finalize_gate_finalize_then_no_rollback(sample_mesh, sim_kubeconfig, run_playbook):
    source_installed_with_manifest(sample_mesh, sim_kubeconfig)

    refused = run_playbook("upgrade", "--tags", "control_plane,data_plane,gateways,finalize", istio_restart_policy="none")
    assert refused.rc != 0
    assert "productpage-" in refused.output and "stale" in refused.output, refused.output
    held = state(sample_mesh)
    assert held["tags"]["default"] == SOURCE and "istiod-" + SOURCE in held["istiods"] and held["stage"] == "gateways"
    assert held["sidecars"]["bookinfo"] == {SOURCE}

    # what no workload restart rebuilds: a bare pod, and a workload that selects the source through its pod label
    sample_mesh.store.delete("pods", "tagged", "debug")
    sample_mesh.store.delete("apps/deployments", "batch", "worker")
    sample_mesh.store.delete("batch/jobs", "batch", "report")
    sample_mesh.settle(20)
    final = run_playbook("upgrade", istio_upgrade_finalize=True)
    assert final.rc == 0, final.output
    finalized = state(sample_mesh)
    assert finalized["tags"] == {"default": TARGET, "prod-stable": TARGET}
    assert finalized["istiods"] == ["istiod-" + TARGET] and finalized["stage"] == "finalized"
    validator = sample_mesh.store.get("admissionregistration.k8s.io/validatingwebhookconfigurations", None, "istiod-default-validator")
    assert validator["metadata"]["labels"]["istio.io/rev"] == TARGET

    late = run_playbook("rollback")
    assert late.rc != 0 and "is finalized" in late.output, late.output
    assert state(sample_mesh) == finalized
