"""The StatefulSet controller: pods ``<sts>-0..N-1`` created in order and replaced from the top ordinal down."""

from __future__ import annotations

from ..errors import ApiError
from ..patch import clone
from .podtemplate import CONTROLLER_REVISION_HASH, is_ready, is_terminating, new_pod, omit_zero, replicas_of, with_status
from .retry import RetryLater
from .revisions import cleanup_history, owned_revisions, sync_update_revision

COMPONENT = "statefulset-controller"
POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX = "apps.kubernetes.io/pod-index"


def _revision_of(pod: dict) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(CONTROLLER_REVISION_HASH)


def _template_of(revision: dict) -> dict:
    template = clone(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


class StatefulSetController:
    """Keeps one pod per ordinal at the right revision, honouring the pod management policy and update strategy."""

    key = "apps/statefulsets"

    def __init__(self, manager) -> None:
        self._manager = manager

    def reconcile(self, namespace: str, name: str) -> None:
        """Create, delete or replace at most what the policy allows, then write the status."""
        manager = self._manager
        sts = manager.cache.get(self.key, namespace, name)
        if sts is None or is_terminating(sts):
            return
        revisions = owned_revisions(manager, sts)
        update = sync_update_revision(manager, sts, revisions)
        if update is None:
            raise RetryLater(f"statefulset {namespace}/{name}: revision name collision")
        revisions = owned_revisions(manager, sts)
        by_name = {cr["metadata"]["name"]: cr for cr in revisions}
        current = by_name.get((sts.get("status") or {}).get("currentRevision") or "", update)
        self._manage(sts, current, update)
        pods = self._pods(sts)
        self._write_status(sts, current, update, list(pods.values()))
        live = {current["metadata"]["name"], update["metadata"]["name"]}
        live.update(_revision_of(pod) for pod in manager.cache.children(sts["metadata"]["uid"], "pods"))
        cleanup_history(manager, sts, revisions, live)

    def _pods(self, sts: dict) -> dict[int, dict]:
        """The set's pods by ordinal (every ordinal, also those beyond ``replicas``)."""
        prefix = sts["metadata"]["name"] + "-"
        pods = {}
        for pod in self._manager.cache.children(sts["metadata"]["uid"], "pods"):
            suffix = pod["metadata"]["name"][len(prefix):] if pod["metadata"]["name"].startswith(prefix) else ""
            if suffix.isdigit():
                pods[int(suffix)] = pod
        return pods

    @staticmethod
    def _condemned(sts: dict, pods: dict[int, dict]) -> list[dict]:
        replicas = replicas_of(sts)
        return [pods[ordinal] for ordinal in sorted(pods, reverse=True) if ordinal >= replicas]

    def _manage(self, sts: dict, current: dict, update: dict) -> None:
        manager = self._manager
        spec = sts.get("spec") or {}
        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0) if rolling else 0
        replicas = replicas_of(sts)
        pods = self._pods(sts)
        namespace = sts["metadata"]["namespace"]
        for ordinal in range(replicas):
            pod = pods.get(ordinal)
            if pod is None:
                revision = current if rolling and ordinal < partition else update
                self._create(sts, self._new_pod(sts, revision, ordinal))
                if monotonic:
                    return
                continue
            if (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded") and not is_terminating(pod):
                manager.delete("pods", namespace, pod["metadata"]["name"])
                if monotonic:
                    return
                continue
            if monotonic and (is_terminating(pod) or not is_ready(pod)):
                return
        for pod in self._condemned(sts, pods):
            if not is_terminating(pod):
                manager.delete("pods", namespace, pod["metadata"]["name"])
            if monotonic:
                return
        if not rolling:
            return
        for ordinal in range(replicas - 1, partition - 1, -1):
            pod = pods.get(ordinal)
            if pod is None:
                return
            if _revision_of(pod) != update["metadata"]["name"] and not is_terminating(pod):
                manager.delete("pods", namespace, pod["metadata"]["name"])
                return
            if is_terminating(pod) or not is_ready(pod):
                return

    def _create(self, sts: dict, pod: dict) -> None:
        try:
            self._manager.create(pod)
        except ApiError as error:
            message = f"create Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} failed error: {error.message}"
            self._manager.events.record(sts, "Warning", "FailedCreate", message, COMPONENT)
            raise RetryLater(message) from error

    @staticmethod
    def _new_pod(sts: dict, revision: dict, ordinal: int) -> dict:
        name = f"{sts['metadata']['name']}-{ordinal}"
        pod = new_pod(_template_of(revision), sts, name=name, labels={
            CONTROLLER_REVISION_HASH: revision["metadata"]["name"], POD_NAME: name, POD_INDEX: str(ordinal)})
        pod["spec"]["hostname"] = name
        service = (sts.get("spec") or {}).get("serviceName")
        if service:
            pod["spec"]["subdomain"] = service
        return pod

    def _write_status(self, sts: dict, current: dict, update: dict, pods: list[dict]) -> None:
        current_name, update_name = current["metadata"]["name"], update["metadata"]["name"]
        old = sts.get("status") or {}
        existing = [pod for pod in pods if not is_terminating(pod)]
        ready = [pod for pod in existing if is_ready(pod)]
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(existing),
            "readyReplicas": len(ready),
            "currentReplicas": sum(1 for pod in existing if _revision_of(pod) == current_name),
            "updatedReplicas": sum(1 for pod in existing if _revision_of(pod) == update_name),
            "availableReplicas": len(ready),
            "currentRevision": current_name,
            "updateRevision": update_name,
            "collisionCount": int(old.get("collisionCount") or 0),
        }
        rolling = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
        if rolling and status["updatedReplicas"] == status["replicas"] and status["readyReplicas"] == status["replicas"]:
            status["currentReplicas"] = status["updatedReplicas"]
            status["currentRevision"] = update_name
        status = omit_zero(status, keep=("replicas", "availableReplicas", "collisionCount"))
        if status != old:
            self._manager.update(with_status(sts, status), subresource="status")
