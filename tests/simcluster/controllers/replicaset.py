"""The ReplicaSet controller: keeps ``spec.replicas`` pods made from the template, and reports their state."""

from __future__ import annotations

import time

from ..errors import ApiError
from ..selectors import match_label_selector
from .podtemplate import (available_at, find_condition, is_active, is_ready, is_terminating, new_pod, now_rfc3339, parse_rfc3339,
                          omit_zero, replicas_of, set_condition, with_status)
from .retry import RetryLater

COMPONENT = "replicaset-controller"
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_order(pod: dict) -> tuple:
    """Sort key putting the pods to delete first: unscheduled, pending, not ready, then the newest."""
    status = pod.get("status") or {}
    created = parse_rfc3339((pod.get("metadata") or {}).get("creationTimestamp")) or 0.0
    return (bool((pod.get("spec") or {}).get("nodeName")), _PHASE_RANK.get(status.get("phase"), 1), is_ready(pod), -created)


class ReplicaSetController:
    """Creates and deletes the pods of a ReplicaSet; a refused creation is reported as Kubernetes does."""

    key = "apps/replicasets"

    def __init__(self, manager) -> None:
        self._manager = manager

    def reconcile(self, namespace: str, name: str) -> None:
        """Create or delete pods towards ``spec.replicas``, then write the status."""
        manager = self._manager
        rs = manager.cache.get(self.key, namespace, name)
        if rs is None:
            return
        pods = manager.cache.children(rs["metadata"]["uid"], "pods")
        active = [pod for pod in pods if is_active(pod)]
        failure = None
        if not is_terminating(rs):
            failure = self._manage(rs, active)
        self._write_status(rs, active, failure)
        if failure is not None:
            raise RetryLater(failure)

    def _manage(self, rs: dict, active: list[dict]) -> str | None:
        """Create missing pods (stopping at the first refusal, whose message is returned) or delete extra ones."""
        manager = self._manager
        diff = len(active) - replicas_of(rs)
        template = (rs.get("spec") or {}).get("template") or {}
        for _unused in range(-diff):
            try:
                manager.create(new_pod(template, rs))
            except ApiError as error:
                manager.events.record(rs, "Warning", "FailedCreate", f"Error creating: {error.message}", COMPONENT)
                return error.message
        if diff > 0:
            for pod in sorted(active, key=deletion_order)[:diff]:
                manager.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
        return None

    def _write_status(self, rs: dict, active: list[dict], failure: str | None) -> None:
        manager = self._manager
        spec = rs.get("spec") or {}
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = time.time()
        ready = [pod for pod in active if is_ready(pod)]
        available = 0
        for pod in ready:
            when = available_at(pod, min_ready)
            if when is not None and when <= now:
                available += 1
            elif when is not None:
                meta = rs["metadata"]
                manager.enqueue_after(when - now, self.key, meta["namespace"], meta["name"])
        old = rs.get("status") or {}
        status = {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(1 for pod in active if match_label_selector({"matchLabels": template_labels},
                                                                                    pod["metadata"].get("labels"))),
            "readyReplicas": len(ready),
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        conditions = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
        if failure is not None:
            previous = find_condition(old.get("conditions"), "ReplicaFailure")
            conditions = set_condition(conditions + ([previous] if previous else []), {
                "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": failure,
                "lastTransitionTime": now_rfc3339(now)})
        if conditions:
            status["conditions"] = conditions
        status = omit_zero(status, keep=("replicas",))
        if status != old:
            manager.update(with_status(rs, status), subresource="status")
