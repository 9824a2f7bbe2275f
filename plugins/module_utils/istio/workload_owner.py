# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workload that owns a pod, found through its controller ownerReference (and a ReplicaSet's own owner).

A Deployment's pods are owned by a ReplicaSet, which the Deployment owns; StatefulSet, DaemonSet and Job pods are
owned by their workload directly. Only Deployments, StatefulSets and DaemonSets can be restarted the way
``kubectl rollout restart`` does; every other owner (or none) is reported with the reason why not.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPLOYMENT = "Deployment"
STATEFULSET = "StatefulSet"
DAEMONSET = "DaemonSet"
REPLICASET = "ReplicaSet"
JOB = "Job"
RESTARTABLE_KINDS = (DEPLOYMENT, STATEFULSET, DAEMONSET)


@dataclass(frozen=True)
class Owner:
    """The workload a pod belongs to; ``kind`` and ``name`` are None for a bare pod."""

    namespace: str
    kind: str | None
    name: str | None

    @property
    def restartable(self) -> bool:
        """True for Deployments, StatefulSets and DaemonSets (what ``kubectl rollout restart`` restarts)."""
        return self.kind in RESTARTABLE_KINDS

    @property
    def key(self) -> str:
        """``namespace/Kind/name`` (``namespace/None/None`` for a bare pod: use the pod's name there)."""
        return "%s/%s/%s" % (self.namespace, self.kind, self.name)

    def not_restartable_reason(self) -> str:
        """Why no workload restart rebuilds the pods of this owner, and what does; empty when a restart does."""
        if self.restartable:
            return ""
        if self.kind is None:
            return "bare pod, not rebuilt by a restart: delete and recreate it"
        if self.kind == JOB:
            return ("pod of Job %s, not rebuilt by a restart: let it finish (the Job's next pods get the new sidecar) or "
                    "delete it (the Job creates a new pod)" % self.name)
        if self.kind == REPLICASET:
            return ("pod of ReplicaSet %s, which no Deployment owns, not rebuilt by a restart: delete it (the ReplicaSet "
                    "re-creates it)" % self.name)
        return ("pod of %s %s, which 'kubectl rollout restart' cannot restart: rebuild it through its own controller"
                % (self.kind, self.name))

    def action(self) -> str:
        """What rebuilds a pod of this owner: restart the workload, or what :meth:`not_restartable_reason` says."""
        if self.restartable:
            return "restart %s %s/%s" % (self.kind, self.namespace, self.name)
        return self.not_restartable_reason()

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {"namespace": self.namespace, "kind": self.kind, "name": self.name}


def controller_reference(obj: dict) -> dict | None:
    """The ownerReference of ``obj`` marked ``controller: true``; None when it has none."""
    for reference in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return reference
    return None


def replicaset_owners(replicasets: list[dict]) -> dict:
    """Map ``(namespace, replicaset name)`` to the ``(kind, name)`` of its controller, or None when it has none."""
    owners = {}
    for replicaset in replicasets or []:
        meta = replicaset.get("metadata") or {}
        reference = controller_reference(replicaset)
        owners[(meta.get("namespace"), meta.get("name"))] = (reference.get("kind"), reference.get("name")) if reference else None
    return owners


def owner_of(pod: dict, rs_owners: dict) -> Owner:
    """The workload that owns ``pod``: a ReplicaSet's pod belongs to the ReplicaSet's Deployment when it has one.

    ``rs_owners`` comes from :func:`replicaset_owners`. A ReplicaSet missing from it (deleted meanwhile) is
    reported as the owner itself.
    """
    meta = pod.get("metadata") or {}
    namespace = meta.get("namespace", "")
    reference = controller_reference(pod)
    if reference is None:
        return Owner(namespace, None, None)
    kind, name = reference.get("kind"), reference.get("name")
    if kind == REPLICASET:
        parent = rs_owners.get((namespace, name))
        if parent is not None:
            kind, name = parent
    return Owner(namespace, kind, name)
