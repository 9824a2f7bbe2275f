"""The Job controller: runs pods until ``completions`` succeeded, ``parallelism`` at a time, then marks it Complete."""

from __future__ import annotations

from ..patch import clone
from .podtemplate import create_pod, find_condition, is_active, is_ready, new_pod, now_rfc3339, omit_zero, with_status
from .replicaset import deletion_order

COMPONENT = "job-controller"
COMPLETED_REASON = "CompletionsReached"
COMPLETED_MESSAGE = "Reached expected number of succeeded pods"


class JobController:
    """Creates the Job's pods and counts them; a Job whose pods all succeeded gets SuccessCriteriaMet and Complete."""

    key = "batch/jobs"

    def __init__(self, manager) -> None:
        self._manager = manager

    def reconcile(self, namespace: str, name: str) -> None:
        """Start or stop pods towards the Job's parallelism and completions, then write the status."""
        manager = self._manager
        job = manager.cache.get(self.key, namespace, name)
        if job is None:
            return
        spec = job.get("spec") or {}
        status = job.get("status") or {}
        finished = any(find_condition(status.get("conditions"), kind) for kind in ("Complete", "Failed"))
        pods = manager.cache.children(job["metadata"]["uid"], "pods")
        succeeded = sum(1 for pod in pods if (pod.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for pod in pods if (pod.get("status") or {}).get("phase") == "Failed")
        active = [pod for pod in pods if is_active(pod)]
        completions = spec.get("completions")
        done = succeeded >= completions if completions is not None else succeeded > 0 and not active
        if not finished and not done:
            parallelism = 0 if spec.get("suspend") else int(spec.get("parallelism", 1) or 0)
            wanted = parallelism if completions is None else min(parallelism, int(completions) - succeeded)
            for _unused in range(wanted - len(active)):
                create_pod(manager, job, self._new_pod(job), COMPONENT)
            for pod in sorted(active, key=deletion_order)[: max(len(active) - wanted, 0)]:
                manager.delete("pods", namespace, pod["metadata"]["name"])
            active = [pod for pod in manager.cache.children(job["metadata"]["uid"], "pods") if is_active(pod)]
        self._write_status(job, status, active, succeeded, failed, done and not finished)

    @staticmethod
    def _new_pod(job: dict) -> dict:
        return new_pod((job.get("spec") or {}).get("template") or {}, job)

    def _write_status(self, job: dict, old: dict, active: list[dict], succeeded: int, failed: int, completing: bool) -> None:
        now = now_rfc3339()
        status = clone(old)
        status.setdefault("startTime", now)
        status["active"] = len(active)
        status["ready"] = sum(1 for pod in active if is_ready(pod))
        status["terminating"] = 0
        status["succeeded"] = succeeded
        status["failed"] = failed
        status["uncountedTerminatedPods"] = {}
        if completing:
            status["conditions"] = (status.get("conditions") or []) + [
                {"type": kind, "status": "True", "reason": COMPLETED_REASON, "message": COMPLETED_MESSAGE,
                 "lastProbeTime": now, "lastTransitionTime": now}
                for kind in ("SuccessCriteriaMet", "Complete")]
            status["completionTime"] = now
        status = omit_zero(status, keep=("ready", "terminating"))
        if status != old:
            self._manager.update(with_status(job, status), subresource="status")
