"""The real helm 4 against the simulated cluster: install, upgrade and uninstall of a small chart."""
from __future__ import annotations

import os

CHART = os.path.join(os.path.dirname(os.path.abspath(__file__)), "charts", "demo")


def test_helm_install_upgrade_uninstall(sim, kubectl, helm):
    kubectl("create", "namespace", "apps", check=True)
    out = helm("install", "demo", CHART, "-n", "apps", "--wait", "--timeout", "30s", check=True).stdout
    assert "STATUS: deployed" in out
    assert sim.store.get("configmaps", "apps", "demo-config")["data"] == {"greeting": "hello"}
    assert sim.store.get("apps/deployments", "apps", "demo")["status"]["readyReplicas"] == 1

    helm("upgrade", "demo", CHART, "-n", "apps", "--set", "replicas=2", "--set", "greeting=hi", "--wait", "--timeout", "30s",
         check=True)
    assert sim.store.get("configmaps", "apps", "demo-config")["data"] == {"greeting": "hi"}
    assert sim.store.get("apps/deployments", "apps", "demo")["status"]["readyReplicas"] == 2
    releases = helm("list", "-n", "apps", "-o", "json", check=True).stdout
    assert '"revision":"2"' in releases.replace(" ", "") and '"status":"deployed"' in releases.replace(" ", "")

    helm("uninstall", "demo", "-n", "apps", "--wait", check=True)
    assert sim.settle(10)
    assert sim.store.get("apps/deployments", "apps", "demo") is None
    assert sim.store.list("pods", "apps")[0] == []
    assert [s["metadata"]["name"] for s in sim.store.list("secrets", "apps")[0]] == []
