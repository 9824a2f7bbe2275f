"""upgrade.yml and rollback.yml against the simulated cluster, loaded with the sample mesh on the source revision."""

from __future__ import annotations

import dataclasses
import json

from tests.playbooks.conftest import DEBUG_REFUSED, SOURCE, TARGET, source_installed_with_manifest, state, writes_after_the_gate
from tests.simcluster.fixtures import mesh

MWCS = "admissionregistration.k8s.io/mutatingwebhookconfigurations"


def recreate_debug_pod(sim) -> str:
    """What the operator does with the bare pod the gate names: delete it and create it again (through admission, so
    the revision its namespace's tag points at now injects it); returns its sidecar's revision."""
    sim.store.delete("pods", "tagged", "debug")
    assert sim.settle(20)
    pod = sim.store.create(mesh.bare_pod("tagged", "debug"))
    return json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])["revision"]


def test_check_upgrade_rerun_and_rollback(sample_mesh, run_playbook):
    before = state(sample_mesh)
    assert before["sidecars"]["bookinfo"] == {SOURCE} and before["tags"]["prod-stable"] == SOURCE
    assert before["sidecars"]["tagged"] == {SOURCE}  # the bare pod tagged/debug too, injected by the tag prod-stable
    tag_labels = sample_mesh.store.get(MWCS, None, "istio-revision-tag-prod-stable")["metadata"]["labels"]

    sample_mesh.clear_requests()
    plan = run_playbook("upgrade", "--check", "--diff")
    assert plan.rc == 0, plan.output
    assert not sample_mesh.writes(), [f"{r.verb} {r.resource} {r.namespace}/{r.name}" for r in sample_mesh.writes()]
    assert "istiod-" + TARGET in plan.output and "Waves: " in plan.output
    assert f"Namespaces to point at {TARGET}: bookinfo enabled -" in plan.output
    assert "bookinfo/Deployment/productpage" in plan.output and "Gateways to move (in_place): istio-ingress/istio-ingressgateway" in plan.output, plan.output
    assert state(sample_mesh) == before

    # verify refuses the bare pod no restart rebuilt, names it with what it needs, and writes nothing after its gate
    sample_mesh.clear_requests()
    refused = run_playbook("upgrade")
    assert refused.rc != 0 and DEBUG_REFUSED % (SOURCE, TARGET) in refused.output, refused.output
    assert writes_after_the_gate([dataclasses.asdict(r) for r in sample_mesh.requests]) == [] and state(sample_mesh)["stage"] == "gateways"

    assert recreate_debug_pod(sample_mesh) == TARGET
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

    # the rollback's gate refuses the bare pod recreated on the target, and removes nothing
    sample_mesh.clear_requests()
    refused = run_playbook("rollback")
    assert refused.rc != 0 and DEBUG_REFUSED % (TARGET, SOURCE) in refused.output, refused.output
    assert writes_after_the_gate([dataclasses.asdict(r) for r in sample_mesh.requests]) == []
    held = state(sample_mesh)
    assert held["istiods"] == ["istiod-" + SOURCE, "istiod-" + TARGET] and held["stage"] == "rolling_back"

    assert recreate_debug_pod(sample_mesh) == SOURCE
    back = run_playbook("rollback")
    assert back.rc == 0, back.output
    restored = state(sample_mesh)
    assert restored["labels"] == before["labels"] and restored["tags"] == before["tags"]
    # the tag's webhook has every label it had before, its installer's operator.istio.io labels too (issue 8, item 9)
    assert sample_mesh.store.get(MWCS, None, "istio-revision-tag-prod-stable")["metadata"]["labels"] == tag_labels
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
