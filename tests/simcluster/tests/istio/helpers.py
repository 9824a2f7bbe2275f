"""Helpers for the Istio admission tests: a Store with Istio's hook, control planes marked ready, pods to create."""

from __future__ import annotations

import json

from tests.simcluster import istio
from tests.simcluster.cluster import Settings
from tests.simcluster.fixtures import controlplane
from tests.simcluster.fixtures.mesh import namespace
from tests.simcluster.store import Store

OLD, OLD_VERSION = "1-27-3", "1.27.3"
NEW, NEW_VERSION = "1-28-1", "1.28.1"


def ready(objs: list[dict], replicas: int = 1) -> list[dict]:
    """Mark the istiod Deployments in ``objs`` as having ``replicas`` ready replicas (0: none ready)."""
    for obj in objs:
        if obj["kind"] == "Deployment" and (obj["metadata"].get("labels") or {}).get("app") == "istiod":
            obj["status"] = {"replicas": obj["spec"].get("replicas", 1), "readyReplicas": replicas}
    return objs


class Mesh:
    """A Store with Istio installed; ``pod()`` creates a pod through admission and returns what was stored."""

    def __init__(self, objs: list[dict], settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.store = Store()
        istio.install(self.store, self.settings)
        self.store.load(objs, create_namespaces=True)
        self._count = 0

    def pod(self, ns: str, labels: dict | None = None, annotations: dict | None = None, *, dry_run: bool = False,
            **spec) -> dict:
        """Create a one-container pod named ``pod-<n>`` in ``ns`` and return the stored (or dry-run) object."""
        self._count += 1
        meta = {"name": f"pod-{self._count}", "namespace": ns}
        if labels:
            meta["labels"] = dict(labels)
        if annotations:
            meta["annotations"] = dict(annotations)
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                "spec": {"containers": [{"name": "app", "image": "docker.io/library/nginx:1.27",
                                         "ports": [{"containerPort": 8080, "protocol": "TCP"}]}], **spec}}
        return self.store.create(body, dry_run=dry_run)


def two_revisions(default_tag: bool = True) -> list[dict]:
    """Namespaces of every labelling style, control planes OLD and NEW (ready), tag prod-stable -> NEW, default tag -> OLD."""
    objs = [
        namespace("istio-system"),
        namespace("old-rev", {"istio.io/rev": OLD}),
        namespace("new-rev", {"istio.io/rev": NEW}),
        namespace("both", {"istio-injection": "enabled", "istio.io/rev": NEW}),
        namespace("enabled", {"istio-injection": "enabled"}),
        namespace("disabled", {"istio-injection": "disabled"}),
        namespace("plain"),
        namespace("tagged", {"istio.io/rev": "prod-stable"}),
        namespace("rev-default", {"istio.io/rev": "default"}),
        namespace("kube-system", {"istio.io/rev": OLD}),
    ]
    objs += controlplane.render(OLD, OLD_VERSION) + controlplane.render(NEW, NEW_VERSION)
    if default_tag:
        objs += controlplane.render_tag("default", OLD, OLD_VERSION)
    objs += controlplane.render_tag("prod-stable", NEW, NEW_VERSION)
    return ready(objs)


def status_of(pod: dict) -> dict | None:
    """The parsed ``sidecar.istio.io/status`` annotation, or None when the pod was not injected."""
    text = (pod["metadata"].get("annotations") or {}).get("sidecar.istio.io/status")
    return json.loads(text) if text is not None else None


def container(pod: dict, name: str) -> dict | None:
    """A container (or init container) of the pod by name."""
    spec = pod["spec"]
    return next((c for c in (spec.get("containers") or []) + (spec.get("initContainers") or []) if c["name"] == name), None)


def env(container_dict: dict) -> dict:
    """A container's plain env values by name."""
    return {e["name"]: e.get("value") for e in container_dict.get("env") or []}
