"""The DaemonSet controller: one pod per eligible simulated node, replaced within ``maxUnavailable``."""

from __future__ import annotations

import time

from .kubelet import Kubelet
from .podtemplate import (CONTROLLER_REVISION_HASH, available_at, create_pod, is_terminating, new_pod, omit_zero, parse_rfc3339,
                          scaled_value, with_status)
from .retry import RetryLater
from .revisions import cleanup_history, owned_revisions, sync_update_revision

COMPONENT = "daemonset-controller"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
# The tolerations the DaemonSet controller adds to every daemon pod.
DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)


def target_node(pod: dict) -> str | None:
    """The node a daemon pod runs on, or is bound to by its ``metadata.name`` node affinity."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and field.get("values"):
                return field["values"][0]
    return None


def _hash_of(pod: dict) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(CONTROLLER_REVISION_HASH)


class DaemonSetController:
    """Creates the missing daemon pods, removes misplaced ones and rolls template changes node by node."""

    key = "apps/daemonsets"

    def __init__(self, manager) -> None:
        self._manager = manager

    def reconcile(self, namespace: str, name: str) -> None:
        """Place, replace and count the daemon pods of one DaemonSet."""
        manager = self._manager
        ds = manager.cache.get(self.key, namespace, name)
        if ds is None or is_terminating(ds):
            return
        revisions = owned_revisions(manager, ds)
        update = sync_update_revision(manager, ds, revisions)
        if update is None:
            raise RetryLater(f"daemonset {namespace}/{name}: revision name collision")
        digest = update["metadata"]["labels"][CONTROLLER_REVISION_HASH]
        template_spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
        eligible = [node for node in manager.settings.nodes if Kubelet.fits({"spec": template_spec}, node)]
        self._manage(ds, eligible, digest)
        pods = [pod for pod in manager.cache.children(ds["metadata"]["uid"], "pods") if not is_terminating(pod)]
        self._write_status(ds, eligible, digest, pods)
        live = {update["metadata"]["name"]} | {f"{name}-{_hash_of(pod)}" for pod in pods}
        cleanup_history(manager, ds, owned_revisions(manager, ds), live)

    def _by_node(self, ds: dict) -> dict[str | None, list[dict]]:
        grouped: dict[str | None, list[dict]] = {}
        for pod in self._manager.cache.children(ds["metadata"]["uid"], "pods"):
            if not is_terminating(pod) and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                grouped.setdefault(target_node(pod), []).append(pod)
        for pods in grouped.values():
            pods.sort(key=lambda p: parse_rfc3339(p["metadata"].get("creationTimestamp")) or 0.0)
        return grouped

    def _manage(self, ds: dict, eligible: list[str], digest: str) -> None:
        manager = self._manager
        namespace = ds["metadata"]["namespace"]
        grouped = self._by_node(ds)
        for node, pods in grouped.items():
            extra = pods if node not in eligible else pods[1:]
            for pod in extra:
                manager.delete("pods", namespace, pod["metadata"]["name"])
        for node in eligible:
            if node not in grouped:
                create_pod(manager, ds, self._new_pod(ds, node, digest), COMPONENT)
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        max_unavailable = scaled_value((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), len(eligible), True)
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = time.time()

        def available(pod: dict) -> bool:
            when = available_at(pod, min_ready)
            return when is not None and when <= now

        unavailable = sum(1 for node in eligible if node not in grouped or not available(grouped[node][0]))
        for node in eligible:
            pod = (grouped.get(node) or [None])[0]
            if pod is None or _hash_of(pod) == digest:
                continue
            if not available(pod):
                manager.delete("pods", namespace, pod["metadata"]["name"])
            elif unavailable < max(max_unavailable, 1):
                manager.delete("pods", namespace, pod["metadata"]["name"])
                unavailable += 1

    @staticmethod
    def _new_pod(ds: dict, node: str, digest: str) -> dict:
        generation = ((ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION)
                      or str(ds["metadata"].get("generation", 1)))
        pod = new_pod(ds["spec"]["template"], ds, labels={CONTROLLER_REVISION_HASH: digest, TEMPLATE_GENERATION_LABEL: generation})
        spec = pod["spec"]
        node_affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
        tolerations = spec.setdefault("tolerations", [])
        present = {(t.get("key"), t.get("effect")) for t in tolerations}
        for key, effect in DAEMON_TOLERATIONS:
            if (key, effect) not in present:
                tolerations.append({"key": key, "operator": "Exists", "effect": effect})
        return pod

    def _write_status(self, ds: dict, eligible: list[str], digest: str, pods: list[dict]) -> None:
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = time.time()
        placed: dict[str, dict] = {}
        misplaced = set()
        for pod in sorted(pods, key=lambda p: parse_rfc3339(p["metadata"].get("creationTimestamp")) or 0.0):
            node = target_node(pod)
            if node in eligible:
                placed.setdefault(node, pod)
            elif node is not None:
                misplaced.add(node)
        available = 0
        for pod in placed.values():
            when = available_at(pod, min_ready)
            if when is not None and when <= now:
                available += 1
            elif when is not None:
                meta = ds["metadata"]
                self._manager.enqueue_after(when - now, self.key, meta["namespace"], meta["name"])
        status = {
            "currentNumberScheduled": len(placed),
            "numberMisscheduled": len(misplaced),
            "desiredNumberScheduled": len(eligible),
            "numberReady": sum(1 for pod in placed.values() if available_at(pod, 0) is not None),
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": sum(1 for pod in placed.values() if _hash_of(pod) == digest),
            "numberAvailable": available,
            "numberUnavailable": max(len(eligible) - available, 0),
        }
        old = ds.get("status") or {}
        if old.get("collisionCount"):
            status["collisionCount"] = old["collisionCount"]
        status = omit_zero(status, keep=("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"))
        if status != old:
            self._manager.update(with_status(ds, status), subresource="status")
