# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart workloads as ``kubectl rollout restart`` does, and wait for their rollouts as ``kubectl rollout status``.

:func:`rollout_state` is pure: it reads a Deployment, StatefulSet or DaemonSet (dict) and says whether its rollout
is complete, still going, or failed, with kubectl's conditions and wording. :func:`wait_for_rollouts` polls a set of
workloads until all are complete, one fails, or the timeout passes.

Polling cost: each poll reads only the workloads still rolling, grouped by namespace and kind: one GET for a
workload alone in its group, one LIST of the namespace's objects of that kind for two or more (a LIST costs one
request however many of them it returns, so it is never dearer than the GETs it replaces).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import KubeApiError

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
RESOURCES = {"Deployment": R.DEPLOYMENTS, "StatefulSet": R.STATEFULSETS, "DaemonSet": R.DAEMONSETS}

COMPLETE = "complete"
FAILED = "failed"
TIMED_OUT = "timed_out"
UNFINISHED = "unfinished"


@dataclass(frozen=True)
class RolloutState:
    """Where a rollout stands: ``done``, ``failed`` (will not finish by itself), and kubectl's message."""

    done: bool
    failed: bool
    message: str


def rollout_state(obj: dict) -> RolloutState:
    """Evaluate a workload's rollout like ``kubectl rollout status`` (polymorphichelpers/rollout_status.go)."""
    kind = obj.get("kind")
    if kind == "Deployment":
        return _deployment_state(obj)
    if kind == "StatefulSet":
        return _statefulset_state(obj)
    if kind == "DaemonSet":
        return _daemonset_state(obj)
    raise ValueError("cannot evaluate the rollout of a %s: only Deployment, StatefulSet and DaemonSet roll out" % kind)


def _numbers(obj: dict) -> tuple[dict, dict, dict, int]:
    meta = obj.get("metadata") or {}
    return meta, obj.get("spec") or {}, obj.get("status") or {}, int(meta.get("generation") or 0)


def _deployment_state(obj: dict) -> RolloutState:
    meta, spec, status, generation = _numbers(obj)
    name = meta.get("name")
    if generation > int(status.get("observedGeneration") or 0):
        return RolloutState(False, False, "Waiting for deployment spec update to be observed...")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return RolloutState(False, True, 'deployment "%s" exceeded its progress deadline' % name)
    replicas = spec.get("replicas")
    updated = int(status.get("updatedReplicas") or 0)
    if replicas is not None and updated < int(replicas):
        return RolloutState(False, False, 'Waiting for deployment "%s" rollout to finish: %d out of %d new replicas have been updated...'
                            % (name, updated, int(replicas)))
    current = int(status.get("replicas") or 0)
    if current > updated:
        return RolloutState(False, False, 'Waiting for deployment "%s" rollout to finish: %d old replicas are pending termination...'
                            % (name, current - updated))
    available = int(status.get("availableReplicas") or 0)
    if available < updated:
        return RolloutState(False, False, 'Waiting for deployment "%s" rollout to finish: %d of %d updated replicas are available...'
                            % (name, available, updated))
    return RolloutState(True, False, 'deployment "%s" successfully rolled out' % name)


def _statefulset_state(obj: dict) -> RolloutState:
    _meta, spec, status, generation = _numbers(obj)
    strategy = spec.get("updateStrategy") or {}
    if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
        return RolloutState(True, False, "rollout status is only available for RollingUpdate strategy type")
    observed = int(status.get("observedGeneration") or 0)
    if observed == 0 or generation > observed:
        return RolloutState(False, False, "Waiting for statefulset spec update to be observed...")
    replicas = spec.get("replicas")
    ready = int(status.get("readyReplicas") or 0)
    if replicas is not None and ready < int(replicas):
        return RolloutState(False, False, "Waiting for %d pods to be ready..." % (int(replicas) - ready))
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        updated = int(status.get("updatedReplicas") or 0)
        if replicas is not None and partition is not None and updated < int(replicas) - int(partition):
            return RolloutState(False, False, "Waiting for partitioned roll out to finish: %d out of %d new pods have been updated..."
                                % (updated, int(replicas) - int(partition)))
        return RolloutState(True, False, "partitioned roll out complete: %d new pods have been updated..." % updated)
    if status.get("updateRevision") != status.get("currentRevision"):
        return RolloutState(False, False, "waiting for statefulset rolling update to complete %d pods at revision %s..."
                            % (int(status.get("updatedReplicas") or 0), status.get("updateRevision")))
    return RolloutState(True, False, "statefulset rolling update complete %d pods at revision %s..."
                        % (int(status.get("currentReplicas") or 0), status.get("currentRevision")))


def _daemonset_state(obj: dict) -> RolloutState:
    meta, spec, status, generation = _numbers(obj)
    name = meta.get("name")
    if ((spec.get("updateStrategy") or {}).get("type") or "RollingUpdate") != "RollingUpdate":
        return RolloutState(True, False, "rollout status is only available for RollingUpdate strategy type")
    if generation > int(status.get("observedGeneration") or 0):
        return RolloutState(False, False, "Waiting for daemon set spec update to be observed...")
    desired = int(status.get("desiredNumberScheduled") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    if updated < desired:
        return RolloutState(False, False, 'Waiting for daemon set "%s" rollout to finish: %d out of %d new pods have been updated...'
                            % (name, updated, desired))
    available = int(status.get("numberAvailable") or 0)
    if available < desired:
        return RolloutState(False, False, 'Waiting for daemon set "%s" rollout to finish: %d of %d updated pods are available...'
                            % (name, available, desired))
    return RolloutState(True, False, 'daemon set "%s" successfully rolled out' % name)


def restart_timestamp(now: datetime | None = None) -> str:
    """The RFC 3339 time ``kubectl rollout restart`` writes (UTC, whole seconds)."""
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def restart_patch(timestamp: str) -> dict:
    """The strategic merge patch of ``kubectl rollout restart``: the restartedAt pod-template annotation."""
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: timestamp}}}}}


def restart_workload(api, workload, timestamp: str, dry_run: bool = False) -> dict:
    """Patch one workload (``namespace``, ``kind``, ``name``) as ``kubectl rollout restart`` does; return the object."""
    path = RESOURCES[workload.kind].path(workload.namespace, workload.name)
    return api.patch(path, restart_patch(timestamp), patch_type="strategic", dry_run=dry_run)


@dataclass
class WaitResult:
    """The outcome of :func:`wait_for_rollouts`: each workload's final status and message, in the given order."""

    status: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    polls: int = 0

    @property
    def ok(self) -> bool:
        """True when every rollout completed."""
        return all(state == COMPLETE for state in self.status.values())

    def with_status(self, *wanted: str) -> list:
        """The workloads whose final status is one of ``wanted``."""
        return [workload for workload, state in self.status.items() if state in wanted]


def wait_for_rollouts(api, workloads: list, timeout: float, poll_interval: float,
                      sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> WaitResult:
    """Poll ``workloads`` (objects with ``namespace``, ``kind``, ``name``) until all rollouts complete.

    Stops at the first rollout that fails (a Deployment past its progress deadline, or a workload deleted
    meanwhile): that one is ``failed``, those still rolling are ``unfinished``. When ``timeout`` seconds pass,
    those still rolling are ``timed_out``.
    """
    result = WaitResult(status={workload: UNFINISHED for workload in workloads},
                        messages={workload: "not checked yet" for workload in workloads})
    deadline = clock() + timeout
    pending = list(workloads)
    while pending:
        result.polls += 1
        for workload, obj in _read(api, pending).items():
            if obj is None:
                result.status[workload], result.messages[workload] = FAILED, "%s was deleted while rolling out" % workload.key
                continue
            state = rollout_state(obj)
            result.messages[workload] = state.message
            if state.failed:
                result.status[workload] = FAILED
            elif state.done:
                result.status[workload] = COMPLETE
        pending = [workload for workload in pending if result.status[workload] == UNFINISHED]
        if not pending or result.with_status(FAILED):
            break
        remaining = deadline - clock()
        if remaining <= 0:
            for workload in pending:
                result.status[workload] = TIMED_OUT
                result.messages[workload] = "timed out after %ss: %s" % (_seconds(timeout), result.messages[workload])
            break
        sleep(min(poll_interval, remaining))
    return result


def _seconds(value: float) -> str:
    return ("%d" % value) if float(value).is_integer() else ("%.1f" % value)


def _read(api, workloads: list) -> dict:
    """The current objects of ``workloads``: one GET for a workload alone in its namespace and kind, else one LIST."""
    groups: dict = {}
    for workload in workloads:
        groups.setdefault((workload.namespace, workload.kind), []).append(workload)
    found = {}
    for (namespace, kind), members in groups.items():
        resource = RESOURCES[kind]
        if len(members) == 1:
            try:
                obj = api.get(resource.path(namespace, members[0].name))
            except KubeApiError as error:
                if error.status != 404:
                    raise
                obj = None
            if obj is not None:
                obj.setdefault("kind", kind)
            found[members[0]] = obj
            continue
        by_name = {(item.get("metadata") or {}).get("name"): item for item in api.list(resource.path(namespace))}
        for workload in members:
            obj = by_name.get(workload.name)
            if obj is not None:
                obj.setdefault("kind", kind)
            found[workload] = obj
    return found
