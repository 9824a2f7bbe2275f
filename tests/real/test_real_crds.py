"""Istio's CRDs on the real cluster: the control plane stage upgrades them from 1.28.2 to 1.29.1 with helm upgrade of
the base chart's release (Istio's helm upgrade docs), check mode writes nothing, a re-run changes nothing, and the
rollback leaves them at 1.29.1 (never downgraded)."""

from __future__ import annotations

import json
import os

from tests.real.conftest import SOURCE, TARGET, items
from tests.realcluster import build
from tests.realcluster.cluster import HUB

MARKER = "app.kubernetes.io/version"


def istio_crds(cluster) -> dict:
    """{name: (marker, resourceVersion)} of Istio's CRDs."""
    return {crd["metadata"]["name"]: (crd["metadata"]["labels"].get(MARKER), crd["metadata"]["resourceVersion"])
            for crd in items(cluster, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
            if crd["spec"]["group"].endswith("istio.io")}


def base_release(cluster) -> dict:
    releases = json.loads(cluster.helm("list", "-n", "istio-system", "-o", "json").stdout)
    return next(r for r in releases if r["name"] == "istio-base")


def test_control_plane_stage_upgrades_crds_to_the_target_and_rollback_keeps_them(real_mesh, run_playbook):
    before = istio_crds(real_mesh)
    assert len(before) >= 10 and {marker for marker, _version in before.values()} == {SOURCE.version}
    helm = {"istio_installer": "helm", "istio_manifests": [],
            "istio_helm_chart": os.path.join(build.charts_dir(TARGET.version), "istio-control", "istio-discovery"),
            "istio_helm_base_chart": real_mesh.base_chart(TARGET.version), "istio_helm_values": {"global": {"hub": HUB}}}

    real_mesh.clear_requests()
    plan = run_playbook("upgrade", "--check", "--diff", "--tags", "control_plane", **helm)
    assert plan.rc == 0, plan.output
    assert real_mesh.writes() == [], real_mesh.writes()
    assert '"%s": "%s"' % (sorted(before)[0], TARGET.version) in plan.output, plan.output
    assert istio_crds(real_mesh) == before

    done = run_playbook("upgrade", "--tags", "control_plane", **helm)
    assert done.rc == 0, done.output
    after = istio_crds(real_mesh)
    assert sorted(after) == sorted(before) and {marker for marker, _version in after.values()} == {TARGET.version}
    release = base_release(real_mesh)
    assert (int(release["revision"]), release["app_version"]) == (2, TARGET.version)

    again = run_playbook("upgrade", "--tags", "control_plane", **helm)
    assert again.rc == 0 and again.changed == 0, again.output
    assert istio_crds(real_mesh) == after

    back = run_playbook("rollback", **helm)
    assert back.rc == 0, back.output
    assert istio_crds(real_mesh) == after  # untouched: same marker, same resourceVersion
    assert int(base_release(real_mesh)["revision"]) == 2
