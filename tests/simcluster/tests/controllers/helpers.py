"""Helpers for the controller tests: a Store with the controllers running, builders of workloads, an event log."""

from __future__ import annotations

import json
import threading
import time

from tests.simcluster.cluster import Settings
from tests.simcluster.controllers import ControllerManager
from tests.simcluster.store import Store

NAMESPACE = "demo"


class Sim:
    """A Store with the controller manager running against it, in one process."""

    def __init__(self, rollout_delay: float = 0.0) -> None:
        self.settings = Settings(rollout_delay=rollout_delay)
        self.store = Store()
        self.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        self.manager = ControllerManager(self.store, self.settings)
        self.manager.start()

    def settle(self, timeout: float = 10.0) -> None:
        """Wait for the controllers to finish their work; fail the test when they do not."""
        assert self.manager.settle(timeout), "controllers did not settle"

    def get(self, key: str, name: str) -> dict:
        """A stored object of the test namespace (fails when missing)."""
        obj = self.store.get(key, NAMESPACE, name)
        assert obj is not None, f"{key} {name} not found"
        return obj

    def items(self, key: str, selector: str | None = None) -> list[dict]:
        """Every stored object of ``key`` in the test namespace."""
        return self.store.list(key, NAMESPACE, label_selector=selector)[0]

    def update(self, key: str, name: str, change) -> dict:
        """Read, change (``change(obj)``) and write back one object."""
        obj = self.get(key, name)
        change(obj)
        return self.store.update(obj)

    def pods_of(self, owner: dict) -> list[dict]:
        """The pods whose controller ownerReference names ``owner``."""
        uid = owner["metadata"]["uid"]
        return [pod for pod in self.items("pods")
                if any(ref.get("uid") == uid and ref.get("controller") for ref in pod["metadata"].get("ownerReferences") or [])]


def wait_until(predicate, timeout: float = 10.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def container(name: str = "app", image: str = "registry.example/app:1.0") -> dict:
    """One container."""
    return {"name": name, "image": image}


def template(labels: dict, annotations: dict | None = None, containers: list[dict] | None = None, **spec) -> dict:
    """A pod template."""
    metadata = {"labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"metadata": metadata, "spec": {"containers": containers or [container()], **spec}}


def deployment(name: str, replicas: int = 3, **spec) -> dict:
    """A Deployment selecting ``app=<name>``."""
    labels = {"app": name}
    body = {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template(labels)}
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": body}


def statefulset(name: str, replicas: int = 3, **spec) -> dict:
    """A StatefulSet selecting ``app=<name>`` behind service ``<name>``."""
    labels = {"app": name}
    body = {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels}, "template": template(labels)}
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": body}


def daemonset(name: str, **spec) -> dict:
    """A DaemonSet selecting ``app=<name>``."""
    labels = {"app": name}
    body = {"selector": {"matchLabels": labels}, "template": template(labels)}
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": body}


def injected(revision: str, native: bool = False) -> dict:
    """Pod-template fields of a pod injected by ``revision``: the status annotation and an ``istio-proxy``."""
    status = {"initContainers": ["istio-init"], "containers": ["istio-proxy"], "volumes": [], "imagePullSecrets": None,
              "revision": revision}
    proxy = container("istio-proxy", "docker.io/istio/proxyv2:1.28.1")
    if native:
        return {"annotations": {"sidecar.istio.io/status": json.dumps(status)},
                "initContainers": [dict(proxy, restartPolicy="Always")], "containers": [container()]}
    return {"annotations": {"sidecar.istio.io/status": json.dumps(status)}, "containers": [container(), proxy]}


def restart(obj: dict, stamp: str = "2026-01-01T00:00:00Z") -> None:
    """What ``kubectl rollout restart`` changes: the restartedAt annotation of the pod template."""
    meta = obj["spec"]["template"].setdefault("metadata", {})
    meta.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = stamp


def condition(obj: dict, kind: str) -> dict | None:
    """A status condition by type."""
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind), None)


def is_ready(pod: dict) -> bool:
    """Pod Ready condition is True."""
    found = condition(pod, "Ready")
    return found is not None and found["status"] == "True"


class EventLog:
    """Records every store event (type, key, object) in commit order, for checks over a rollout's history."""

    def __init__(self, store: Store, namespace: str = NAMESPACE) -> None:
        self._lock = threading.Lock()
        self.events: list[tuple[str, str, dict]] = []
        store.subscribe(self._on_event)
        with self._lock:
            self.initial_pods = store.list("pods", namespace)[0]
            self.initial_replicasets = store.list("apps/replicasets", namespace)[0]

    def _on_event(self, event_type: str, key: str, obj: dict) -> None:
        with self._lock:
            self.events.append((event_type, key, obj))

    def of(self, key: str) -> list[tuple[str, dict]]:
        """The recorded (type, object) pairs of one resource key."""
        with self._lock:
            return [(event_type, obj) for event_type, k, obj in self.events if k == key]

    def replay(self):
        """Yield (event type, key, object, pods by name so far) after each event: the cluster as a watcher saw it."""
        pods = {pod["metadata"]["name"]: pod for pod in self.initial_pods}
        with self._lock:
            events = list(self.events)
        for event_type, key, obj in events:
            if key == "pods":
                if event_type == "DELETED":
                    pods.pop(obj["metadata"]["name"], None)
                else:
                    pods[obj["metadata"]["name"]] = obj
            yield event_type, key, obj, pods
