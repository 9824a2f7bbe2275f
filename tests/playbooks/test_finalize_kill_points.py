"""Finalize killed at each of its points, each case on a fresh simulated cluster (issue 8, items 1 to 3).

A kill is simulated by refusing the first write that the killed run would have made next (the fault answers 403,
which no retry repeats, and nothing writes after a failed task): the cluster and the record are left exactly as a
SIGKILL at that point leaves them. Each case checks that premise, then that rollback.yml refuses without a single
write request and that a re-run of upgrade.yml finishes finalize to the same end state as an uninterrupted run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from tests.playbooks.conftest import SOURCE, TARGET, source_installed_with_manifest, state
from tests.simcluster.fixtures import controlplane, mesh

RECORD = ("configmaps", "istio-system", "meshops-istio-upgrade")
SOURCE_RECORD = ("configmaps", "istio-system", "meshops-istio-manifest-" + SOURCE)
VALIDATOR = ("admissionregistration.k8s.io/validatingwebhookconfigurations", None, "istiod-default-validator")
SOURCE_ISTIOD = ("apps/deployments", "istio-system", "istiod-" + SOURCE)
KILLED = "injected fault: the run was killed here"
# the manifest installer deletes the source's objects last applied first: the istiod Deployment is gone after these
ISTIOD_GONE_AFTER = [obj["kind"] for obj in reversed(controlplane.render(SOURCE, "1.27.3"))].index("Deployment") + 1

_VERIFIED: dict = {}


@dataclass
class KillPoint:
    """Where the run dies: ``fault`` refuses the write it would have made next; what it leaves behind."""

    name: str
    fault: dict
    default_tag: str
    validator: str
    istiod_left: bool
    step: str
    left: dict = field(default_factory=dict)


KILL_POINTS = [
    KillPoint("after the journal's first step", {"method": "PUT", "path": "/mutatingwebhookconfigurations/istio-revision-tag-default$"},
              SOURCE, SOURCE, True, "move_default"),
    KillPoint("after the tag moved", {"method": "PUT", "path": "/validatingwebhookconfigurations/istiod-default-validator$"},
              TARGET, SOURCE, True, "move_default"),
    KillPoint("after the validator moved", {"method": "PUT", "path": "/configmaps/meshops-istio-upgrade$", "skip": 1},
              TARGET, TARGET, True, "move_default"),
    KillPoint("after the journal's second step", {"method": "DELETE", "path": SOURCE},
              TARGET, TARGET, True, "remove_source"),
    KillPoint("after the source istiod went", {"method": "DELETE", "path": SOURCE, "skip": ISTIOD_GONE_AFTER},
              TARGET, TARGET, False, "remove_source", {"services": "istiod-" + SOURCE}),
    KillPoint("before the final record write", {"method": "PUT", "path": "/configmaps/meshops-istio-upgrade$", "skip": 2},
              TARGET, TARGET, False, "remove_source", {"configmaps": None}),
]


def record_of(sim) -> dict:
    """The upgrade record, as the role wrote it."""
    return json.loads(sim.store.get(*RECORD)["data"]["record"])


def rev_of(obj: dict | None) -> str | None:
    return ((obj or {}).get("metadata", {}).get("labels") or {}).get("istio.io/rev")


@pytest.fixture
def verified_mesh(sim, sim_kubeconfig, run_playbook):
    """The sample mesh upgraded through verify (the source adopted by the manifest installer, the pods no restart
    rebuilds removed, as the demo does), loaded into the freshly reset cluster. The upgrade runs once per worker."""
    if "objects" not in _VERIFIED:
        sim.load(mesh.sample(SOURCE, "1.27.3"))
        sim.settle(20)
        source_installed_with_manifest(sim, sim_kubeconfig)
        sim.store.delete("pods", "tagged", "debug")
        sim.store.delete("apps/deployments", "batch", "worker")
        sim.store.delete("batch/jobs", "batch", "report")
        sim.settle(20)
        upgraded = run_playbook("upgrade")
        assert upgraded.rc == 0, upgraded.output
        _VERIFIED["objects"] = [obj for objs in sim.dump().values() for obj in objs]
        _VERIFIED["state"] = state(sim)
        sim.reset()
    sim.load(_VERIFIED["objects"])
    sim.settle(20)
    assert state(sim) == _VERIFIED["state"] and state(sim)["stage"] == "verify"
    sim.clear_requests()
    return sim


def assert_finalized(sim, before: dict) -> None:
    """The end state of an uninterrupted finalize: the default on the target, the source gone, the data plane as it was."""
    after = state(sim)
    assert after["tags"] == {"default": TARGET, "prod-stable": TARGET}
    assert after["istiods"] == ["istiod-" + TARGET] and after["stage"] == "finalized"
    assert (after["labels"], after["sidecars"], after["gateway"]) == (before["labels"], before["sidecars"], before["gateway"])
    assert rev_of(sim.store.get(*VALIDATOR)) == TARGET
    assert record_of(sim)["finalize"] == {"step": "done"} and record_of(sim)["status"] == "done"
    assert sim.store.get(*SOURCE_RECORD) is None
    left = [f"{key} {obj['metadata']['name']}" for key, objs in sim.dump().items() for obj in objs
            if rev_of(obj) == SOURCE and key not in ("pods", "apps/replicasets")]  # the gateway's old ReplicaSet stays
    assert left == [], left


@pytest.mark.parametrize("point", KILL_POINTS, ids=[p.name for p in KILL_POINTS])
def test_finalize_killed_then_rerun_finishes_it_and_rollback_refuses(verified_mesh, run_playbook, point):
    sim = verified_mesh
    before = state(sim)
    rule = sim.add_fault(status=403, dry_run=False, message=KILLED, **point.fault)
    killed = run_playbook("upgrade", "--tags", "finalize")
    assert killed.rc != 0 and rule.fired == 1 and KILLED in killed.output, killed.output
    real_writes = [r for r in sim.requests if r.is_write and not r.dry_run]
    assert real_writes[-1].fault, "the refused write must be the run's last: a kill stops every later write"
    sim.clear_faults()

    # what the kill left behind
    assert rev_of(sim.store.get("admissionregistration.k8s.io/mutatingwebhookconfigurations", None,
                                "istio-revision-tag-default")) == point.default_tag
    assert rev_of(sim.store.get(*VALIDATOR)) == point.validator
    assert (sim.store.get(*SOURCE_ISTIOD) is not None) == point.istiod_left
    assert (record_of(sim)["stage"], record_of(sim)["finalize"]) == ("verify", {"step": point.step})
    if "services" in point.left:
        assert sim.store.get("services", "istio-system", point.left["services"]) is not None
    if "configmaps" in point.left:
        assert sim.store.get(*SOURCE_RECORD) is None
    left = state(sim)

    sim.clear_requests()
    refused = run_playbook("rollback")
    assert refused.rc != 0 and "Rollback refused, nothing was changed: finalize of the upgrade to " + TARGET in refused.output
    assert "Finish finalize: run playbooks/upgrade.yml again" in refused.output, refused.output
    assert [f"{r.verb} {r.resource} {r.name}" for r in sim.requests if r.is_write] == []
    assert state(sim) == left

    done = run_playbook("upgrade", istio_upgrade_finalize=True)
    assert done.rc == 0, done.output
    assert_finalized(sim, before)


def test_rerun_without_the_finalize_flag_finishes_an_interrupted_finalize(verified_mesh, run_playbook):
    """Once finalize has started, the mesh must not stay half finalized: any re-run of upgrade.yml finishes it."""
    before = state(verified_mesh)
    verified_mesh.add_fault(status=403, dry_run=False, message=KILLED, **KILL_POINTS[4].fault)
    assert run_playbook("upgrade", istio_upgrade_finalize=True).rc != 0
    verified_mesh.clear_faults()
    again = run_playbook("upgrade")
    assert again.rc == 0, again.output
    assert "was interrupted at step remove_source" in again.output
    assert_finalized(verified_mesh, before)
    verified_mesh.clear_requests()
    twice = run_playbook("upgrade", istio_upgrade_finalize=True)
    assert twice.rc == 0 and twice.changed == 0, twice.output
    assert verified_mesh.writes() == []


def test_finalize_refuses_before_its_first_write_when_the_installer_cannot_remove_the_source(verified_mesh, run_playbook):
    verified_mesh.store.delete(*SOURCE_RECORD)  # the source was not installed (or adopted) by the manifest installer
    verified_mesh.clear_requests()
    before = state(verified_mesh)
    refused = run_playbook("upgrade", "--tags", "finalize")
    assert refused.rc != 0
    assert "Finalize refused, nothing was changed" in refused.output and "installer=manifest has no record of it" in refused.output
    assert "Set istio_source_installer" in refused.output, refused.output
    assert verified_mesh.writes() == [], [f"{r.verb} {r.resource} {r.name}" for r in verified_mesh.writes()]
    assert state(verified_mesh) == before and record_of(verified_mesh).get("finalize") in (None, {})


def test_check_mode_of_finalize_shows_what_the_real_run_does(verified_mesh, run_playbook):
    checked = run_playbook("upgrade", "--tags", "finalize", "--check", "--diff", "-v")
    assert checked.rc == 0, checked.output
    assert f"revision {SOURCE} would be removed with manifest: 15 objects (once the tag default" in checked.output
    assert f"tag default would be moved from {SOURCE} to {TARGET}" in checked.output, checked.output
    assert verified_mesh.writes() == []
    before = state(verified_mesh)
    done = run_playbook("upgrade", "--tags", "finalize")
    assert done.rc == 0, done.output
    assert_finalized(verified_mesh, before)


def test_preflight_reports_a_source_control_plane_that_finalize_cannot_remove(sample_mesh, sim_kubeconfig, run_playbook):
    cannot = run_playbook("upgrade", "--tags", "preflight")
    assert cannot.rc == 0, cannot.output
    assert (f"Finalize will not be able to remove the control plane of {SOURCE}: revision {SOURCE} runs in istio-system, "
            "but installer=manifest has no record of it") in cannot.output, cannot.output
    assert "adopt it with the manifest installer" in cannot.output

    source_installed_with_manifest(sample_mesh, sim_kubeconfig)
    can = run_playbook("upgrade", "--tags", "preflight")
    assert can.rc == 0 and f"Finalize will remove the control plane of {SOURCE} with installer manifest." in can.output, can.output
