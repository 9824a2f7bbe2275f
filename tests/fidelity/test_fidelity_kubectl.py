"""The real kubectl 1.35 against the simulated cluster: the commands an operator and our playbooks' users run."""
from __future__ import annotations

import json
import os
import time

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
data:
  mode: blue
"""


def _write(tmp_path, text: str) -> str:
    path = os.path.join(tmp_path, "manifest.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def test_create_namespace_and_deployment(sim, kubectl):
    assert kubectl("create", "namespace", "shop", check=True).stdout.strip() == "namespace/shop created"
    kubectl("-n", "shop", "create", "deployment", "api", "--image=registry.example/api:2", "--replicas=2", check=True)
    stored = sim.store.get("apps/deployments", "shop", "api")
    assert stored["spec"]["replicas"] == 2
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/api:2"
    assert sim.settle(10)
    out = kubectl("-n", "shop", "get", "pods", "-l", "app=api", "-o", "json", check=True).stdout
    pods = json.loads(out)["items"]
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)


def test_apply_twice_is_unchanged_and_get_with_selectors(sim, kubectl, tmp_path):
    kubectl("create", "namespace", "shop", check=True)
    path = _write(tmp_path, DEPLOYMENT_YAML)
    first = kubectl("apply", "-f", path, check=True).stdout
    assert "deployment.apps/web created" in first and "configmap/web-config created" in first
    second = kubectl("apply", "-f", path, check=True).stdout
    assert "deployment.apps/web unchanged" in second and "configmap/web-config unchanged" in second
    assert [r.verb for r in sim.writes() if r.resource == "apps/deployments" and r.user_agent.startswith("kubectl")] == ["create"]
    names = kubectl("-n", "shop", "get", "deploy", "-l", "tier=front", "-o", "jsonpath={.items[*].metadata.name}", check=True)
    assert names.stdout == "web"
    assert "No resources found" in kubectl("-n", "shop", "get", "deploy", "-l", "tier=back").stderr


def test_label_annotate_and_show_labels(sim, kubectl):
    kubectl("create", "namespace", "shop", check=True)
    kubectl("label", "namespace", "shop", "istio.io/rev=1-29-2", check=True)
    kubectl("annotate", "namespace", "shop", "owner=team-a", check=True)
    meta = sim.store.get("namespaces", "", "shop")["metadata"]
    assert meta["labels"]["istio.io/rev"] == "1-29-2" and meta["annotations"]["owner"] == "team-a"
    kubectl("label", "namespace", "shop", "istio.io/rev-", check=True)
    assert "istio.io/rev" not in sim.store.get("namespaces", "", "shop")["metadata"]["labels"]
    table = kubectl("get", "namespace", "shop", "--show-labels", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "AGE", "LABELS"]
    assert table[1].split()[0:2] == ["shop", "Active"] and "kubernetes.io/metadata.name=shop" in table[1]


def test_server_side_apply_twice(sim, kubectl, tmp_path):
    kubectl("create", "namespace", "shop", check=True)
    path = _write(tmp_path, DEPLOYMENT_YAML)
    out = kubectl("apply", "--server-side", "-f", path, check=True).stdout
    assert "deployment.apps/web serverside-applied" in out
    version = sim.store.get("configmaps", "shop", "web-config")["metadata"]["resourceVersion"]
    kubectl("apply", "--server-side", "-f", path, check=True)
    assert sim.store.get("configmaps", "shop", "web-config")["metadata"]["resourceVersion"] == version
    managers = {e["manager"] for e in sim.store.get("configmaps", "shop", "web-config")["metadata"]["managedFields"]}
    assert managers == {"kubectl"}


def test_get_wide_all_namespaces_and_delete(sim, kubectl, tmp_path):
    kubectl("create", "namespace", "shop", check=True)
    kubectl("apply", "-f", _write(tmp_path, DEPLOYMENT_YAML), check=True)
    assert sim.settle(10)
    lines = kubectl("get", "pods", "-A", "-o", "wide", check=True).stdout.splitlines()
    assert lines[0].split()[:6] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(lines) == 3 and all(" 1/1 " in line and "Running" in line for line in lines[1:])
    deploy = kubectl("-n", "shop", "get", "deploy", "web", check=True).stdout.splitlines()
    assert deploy[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"] and deploy[1].split()[:4] == ["web", "2/2", "2", "2"]
    out = kubectl("-n", "shop", "delete", "deployment/web", "configmap/web-config", check=True).stdout
    assert 'deployment.apps "web" deleted' in out
    assert sim.settle(10)
    assert sim.store.list("pods", "shop")[0] == [] and sim.store.get("configmaps", "shop", "web-config") is None


def test_rollout_restart_and_status(sim, kubectl, tmp_path):
    kubectl("create", "namespace", "shop", check=True)
    kubectl("apply", "-f", _write(tmp_path, DEPLOYMENT_YAML), check=True)
    assert sim.settle(10)
    before = {p["metadata"]["name"] for p in sim.store.list("pods", "shop")[0]}
    sim.settings.rollout_delay = 0.2
    assert "restarted" in kubectl("-n", "shop", "rollout", "restart", "deployment/web", check=True).stdout
    status = kubectl("-n", "shop", "rollout", "status", "deployment/web", "--timeout=30s", check=True).stdout
    assert 'deployment "web" successfully rolled out' in status
    assert sim.settle(10)
    after = {p["metadata"]["name"] for p in sim.store.list("pods", "shop")[0]}
    assert len(after) == 2 and not after & before
    assert any(r.verb == "watch" and r.query.get("fieldSelector") == "metadata.name=web" for r in sim.requests)


def test_get_watch_sees_events(sim, kubectl):
    kubectl("create", "namespace", "shop", check=True)
    watcher = kubectl.popen("-n", "shop", "get", "configmaps", "-w", "--output-watch-events", "--request-timeout=20s")
    try:
        deadline = time.monotonic() + 10
        while not any(r.verb == "watch" and r.namespace == "shop" for r in sim.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        kubectl("-n", "shop", "create", "configmap", "seen", "--from-literal=a=1", check=True)
        kubectl("-n", "shop", "delete", "configmap", "seen", check=True)
        time.sleep(0.5)
    finally:
        watcher.terminate()
        out, _unused = watcher.communicate(timeout=10)
    events = [line.split()[:2] for line in out.splitlines()[1:]]
    assert ["ADDED", "seen"] in events and ["DELETED", "seen"] in events
