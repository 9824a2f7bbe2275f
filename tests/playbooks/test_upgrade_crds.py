"""The control plane stage's CRD step through upgrade.yml and rollback.yml on the simulated cluster: the target's
manifest holds Istio's CRDs of its release (the base chart rendered), the sample mesh's are the source's."""

from __future__ import annotations

import re

from tests.playbooks.conftest import SOURCE_VERSION, TARGET, TARGET_VERSION, write_yaml
from tests.simcluster.fixtures import controlplane

CRDS = "apiextensions.k8s.io/customresourcedefinitions"


def crd_versions(sim) -> set:
    return {crd["metadata"]["labels"].get("app.kubernetes.io/version") for crd in sim.store.list(CRDS)[0]}


def test_control_plane_stage_upgrades_crds_check_diff_rerun_and_rollback_keeps_them(sample_mesh, run_playbook, tmp_path):
    base = write_yaml(tmp_path / "base.yaml", controlplane.crds(TARGET_VERSION))
    target = write_yaml(tmp_path / "target.yaml", controlplane.render(TARGET, TARGET_VERSION))
    manifests = {"istio_manifests": [base, target]}
    assert crd_versions(sample_mesh) == {SOURCE_VERSION}

    sample_mesh.clear_requests()
    plan = run_playbook("upgrade", "--check", "--diff", "--tags", "control_plane", **manifests)
    assert plan.rc == 0, plan.output
    assert not sample_mesh.writes(), [f"{r.verb} {r.resource} {r.namespace}/{r.name}" for r in sample_mesh.writes()]
    # --diff: each CRD's release before and after
    assert re.search(r'^-\s+"virtualservices.networking.istio.io": "%s"$' % SOURCE_VERSION, plan.output, re.M), plan.output
    assert re.search(r'^\+\s+"virtualservices.networking.istio.io": "%s"$' % TARGET_VERSION, plan.output, re.M)
    assert crd_versions(sample_mesh) == {SOURCE_VERSION}

    done = run_playbook("upgrade", "--tags", "control_plane", **manifests)
    assert done.rc == 0, done.output
    assert crd_versions(sample_mesh) == {TARGET_VERSION}

    again = run_playbook("upgrade", "--tags", "control_plane", **manifests)
    assert again.rc == 0 and again.changed == 0, again.output

    back = run_playbook("rollback", **manifests)
    assert back.rc == 0, back.output
    assert sample_mesh.store.get("apps/deployments", "istio-system", "istiod-" + TARGET) is None
    assert crd_versions(sample_mesh) == {TARGET_VERSION}  # a rollback never downgrades the CRDs
