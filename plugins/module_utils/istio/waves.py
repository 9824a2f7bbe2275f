# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which workloads to restart so that their pods get the right sidecar, and in which waves (pure).

Input: the audited pods (audit.PodAudit), the classes to act on, and the workload objects (dicts) of the owners
found, keyed by ``(namespace, kind, name)``. A workload is restarted when it owns a pod of one of the classes.

* A workload owning a pod of class ``will_lose_sidecar`` loses its sidecars when restarted: it gets a warning,
  and is skipped unless removal is allowed.
* Pods no workload restart can rebuild (``not_restartable``: bare pods, Job pods, ReplicaSets without Deployment)
  and workloads whose restart would not replace their pods (StatefulSet or DaemonSet with
  ``updateStrategy: OnDelete``, a paused Deployment, a workload deleted meanwhile) are listed with the reason.
* Order is deterministic: namespace, kind, name; waves hold ``batch_size`` workloads each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio.audit import NOT_RESTARTABLE, WILL_LOSE_SIDECAR
from ansible_collections.meshops.istio.plugins.module_utils.istio.workload_owner import DAEMONSET, DEPLOYMENT, STATEFULSET


@dataclass(frozen=True, order=True)
class Workload:
    """A restartable workload: Deployment, StatefulSet or DaemonSet."""

    namespace: str
    kind: str
    name: str

    @property
    def key(self) -> str:
        """``namespace/Kind/name``."""
        return "%s/%s/%s" % (self.namespace, self.kind, self.name)

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {"namespace": self.namespace, "kind": self.kind, "name": self.name}


@dataclass
class RestartPlan:
    """What :func:`plan_restarts` decided."""

    waves: list = field(default_factory=list)
    pods: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    not_restartable: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def workloads(self) -> list[Workload]:
        """Every workload to restart, in order."""
        return [workload for wave in self.waves for workload in wave]


def workload_problem(kind: str, obj: dict | None) -> str:
    """Why restarting this workload object would not replace its pods; empty when it would."""
    if obj is None:
        return "%s not found: it was deleted after its pods were read" % kind
    spec = obj.get("spec") or {}
    if kind in (STATEFULSET, DAEMONSET):
        strategy = (spec.get("updateStrategy") or {}).get("type") or "RollingUpdate"
        if strategy == "OnDelete":
            return ("updateStrategy OnDelete: a restart changes the template but replaces no pod; delete its pods one by one "
                    "to get new sidecars")
    if kind == DEPLOYMENT and spec.get("paused"):
        return "the Deployment is paused: resume it (kubectl rollout resume) and run again"
    return ""


def plan_restarts(pods: list, classes, workload_objects: dict, batch_size: int, allow_sidecar_removal: bool = False) -> RestartPlan:
    """Plan the restarts for the audited ``pods`` (PodAudit) of the given ``classes``.

    ``workload_objects`` maps ``(namespace, kind, name)`` to the workload's object (dict) or None when it does not
    exist. Raises ValueError when ``batch_size`` is below 1.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1, not %d" % batch_size)
    wanted = frozenset(classes or ())
    plan = RestartPlan()
    owned: dict = {}
    blocked: dict = {}
    for pod in pods:
        needs = pod.verdict.needs if pod.pod_class == NOT_RESTARTABLE else pod.pod_class
        if pod.pod_class == NOT_RESTARTABLE:
            if needs in wanted:
                key = (pod.namespace, pod.owner.kind or "Pod", pod.owner.name or pod.name)
                entry = blocked.setdefault(key, {"namespace": pod.namespace, "kind": key[1], "name": key[2], "pods": [],
                                                 "reason": pod.owner.not_restartable_reason()})
                entry["pods"].append(pod.name)
            continue
        if not pod.owner.restartable:
            continue
        workload = Workload(pod.namespace, pod.owner.kind, pod.owner.name)
        owned.setdefault(workload, []).append(pod)

    chosen = []
    for workload in sorted(owned):
        members = owned[workload]
        if not any(pod.pod_class in wanted for pod in members):
            continue
        problem = workload_problem(workload.kind, workload_objects.get((workload.namespace, workload.kind, workload.name)))
        if problem:
            plan.not_restartable.append(dict(workload.as_dict(), pods=[pod.name for pod in members if pod.pod_class in wanted],
                                             reason=problem))
            continue
        losing = [pod.name for pod in members if pod.pod_class == WILL_LOSE_SIDECAR]
        if losing:
            if allow_sidecar_removal:
                plan.warnings.append("restarting %s removes the sidecar of its pods (%s): injection no longer selects them"
                                     % (workload.key, ", ".join(losing)))
            else:
                plan.warnings.append("not restarting %s: its pods (%s) would lose their sidecar because injection no longer "
                                     "selects them; set allow_sidecar_removal=true to restart it anyway"
                                     % (workload.key, ", ".join(losing)))
                plan.skipped.append(dict(workload.as_dict(), pods=losing,
                                         reason="a restart would remove the sidecar (allow_sidecar_removal is false)"))
                continue
        chosen.append(workload)
        plan.pods[workload] = [{"name": pod.name, "class": pod.pod_class} for pod in members if pod.pod_class in wanted]

    plan.not_restartable.extend(blocked[key] for key in sorted(blocked))
    plan.not_restartable.sort(key=lambda item: (item["namespace"], item["kind"], item["name"]))
    plan.waves = [chosen[start:start + batch_size] for start in range(0, len(chosen), batch_size)]
    return plan
