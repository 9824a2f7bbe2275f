"""The helm installer on the real cluster: the target's istiod from Istio's own chart as a Helm release, the
rollback that uninstalls it, and a finalize that uninstalls the source's release (installed as the docs say)."""

from __future__ import annotations

import json
import os

from tests.real.conftest import SOURCE, TARGET, state
from tests.realcluster import build
from tests.realcluster.cluster import HUB


def _releases(cluster) -> list[str]:
    return sorted(r["name"] for r in json.loads(cluster.helm("list", "-n", "istio-system", "-o", "json").stdout))


def test_helm_installer_upgrade_rollback_then_finalize(real_mesh, run_playbook):
    chart = os.path.join(build.charts_dir(TARGET.version), "istio-control", "istio-discovery")
    helm = {"istio_installer": "helm", "istio_manifests": [], "istio_helm_chart": chart,
            "istio_helm_values": {"global": {"hub": HUB}}}
    # the bare pod no restart rebuilds goes first, as the operator does before an upgrade that runs through verify
    # (tests/real/test_real_upgrade.py shows verify refusing it)
    real_mesh.kubectl("delete", "pod", "-n", "tagged", "debug", "--wait=true")
    assert real_mesh.settle(60)
    before = state(real_mesh)
    assert _releases(real_mesh) == ["istio-base", "istiod-" + SOURCE.revision]

    done = run_playbook("upgrade", **helm)
    assert done.rc == 0, done.output
    assert _releases(real_mesh) == ["istio-base", "istiod-" + SOURCE.revision, "istiod-" + TARGET.revision]
    after = state(real_mesh)
    assert after["sidecars"]["shop"] == {TARGET.revision}
    assert after["images"]["shop"] == {f"{HUB}/proxyv2:{TARGET.version}"}
    again = run_playbook("upgrade", **helm)
    assert again.rc == 0 and again.changed == 0, again.output

    back = run_playbook("rollback", **helm)
    assert back.rc == 0, back.output
    assert real_mesh.settle(60)
    assert _releases(real_mesh) == ["istio-base", "istiod-" + SOURCE.revision]
    restored = state(real_mesh)
    assert restored["sidecars"] == before["sidecars"] and restored["images"] == before["images"]
    assert restored["istiods"] == ["istiod-" + SOURCE.revision]

    # what no restart rebuilds goes first, then the whole upgrade with finalize, the source removed by its installer
    real_mesh.kubectl("delete", "deployment", "-n", "batch", "worker")
    real_mesh.kubectl("delete", "job", "-n", "batch", "report", "--cascade=foreground")
    assert real_mesh.settle(60)
    final = run_playbook("upgrade", istio_upgrade_finalize=True, istio_source_installer="helm",
                         istio_source_helm_release="istiod-" + SOURCE.revision, **helm)
    assert final.rc == 0, final.output
    assert _releases(real_mesh) == ["istio-base", "istiod-" + TARGET.revision]
    finalized = state(real_mesh)
    assert finalized["istiods"] == ["istiod-" + TARGET.revision] and finalized["stage"] == "finalized"
    assert finalized["tags"] == {"default": TARGET.revision, "prod-stable": TARGET.revision}
