"""The Deployment controller: one ReplicaSet per pod template, rolled as the real controller rolls them."""

from __future__ import annotations

import time

from ..errors import ApiError
from ..patch import clone
from .podtemplate import (POD_TEMPLATE_HASH, compute_hash, find_condition, is_terminating, now_rfc3339, omit_zero, owner_reference,
                          parse_rfc3339, replicas_of, scaled_value, strip_label, with_status)

COMPONENT = "deployment-controller"
REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# Deployment annotations the controller does not copy to its ReplicaSets.
NOT_COPIED = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, "deployment.kubernetes.io/revision-history",
              DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to"}
NO_DEADLINE = 2147483647


def revision_of(obj: dict) -> int:
    """The ``deployment.kubernetes.io/revision`` annotation as a number (0 when absent)."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION) or "0"
    return int(text) if text.isdigit() else 0


def fenceposts(deployment: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against the desired replicas, rounded as Kubernetes rounds them."""
    spec = deployment.get("spec") or {}
    strategy = spec.get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    desired = replicas_of(deployment)
    surge = scaled_value(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _replicas(rs: dict) -> int:
    return replicas_of(rs, 0)


def _status(rs: dict | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field) or 0)


def _available(rs: dict) -> int:
    """Available pods of a ReplicaSet, never more than it is scaled to (its status may not have caught up yet)."""
    return min(_status(rs, "availableReplicas"), _replicas(rs))


def _set(conditions: list[dict], condition: dict, *, refresh: bool = False) -> list[dict]:
    """Set a Deployment condition: unchanged when status and reason match (unless ``refresh``); the transition
    time is kept while the status stays the same."""
    current = find_condition(conditions, condition["type"])
    if current is not None and not refresh and current.get("status") == condition["status"] and current.get("reason") == condition["reason"]:
        return conditions
    if current is not None and current.get("status") == condition["status"]:
        condition = dict(condition, lastTransitionTime=current.get("lastTransitionTime", condition["lastTransitionTime"]))
    kept = [c for c in conditions if c.get("type") != condition["type"]]
    order = {"Available": 0, "Progressing": 1, "ReplicaFailure": 2}
    return sorted(kept + [condition], key=lambda c: order.get(c.get("type"), 3))


def _condition(condition_type: str, status: str, reason: str, message: str) -> dict:
    now = now_rfc3339()
    return {"type": condition_type, "status": status, "lastUpdateTime": now, "lastTransitionTime": now, "reason": reason,
            "message": message}


class DeploymentController:
    """Creates the ReplicaSet of the current template, scales it and the older ones, and reports progress."""

    key = "apps/deployments"

    def __init__(self, manager) -> None:
        self._manager = manager

    def reconcile(self, namespace: str, name: str) -> None:
        """Roll one Deployment a step further and write its status."""
        deployment = self._manager.cache.get(self.key, namespace, name)
        if deployment is None or is_terminating(deployment):
            return
        owned = self._manager.cache.children(deployment["metadata"]["uid"], "apps/replicasets")
        owned.sort(key=lambda rs: (parse_rfc3339(rs["metadata"].get("creationTimestamp")) or 0.0, rs["metadata"]["name"]))
        conditions = list((deployment.get("status") or {}).get("conditions") or [])
        new_rs = self._find_new(deployment, owned)
        old_rss = [rs for rs in owned if new_rs is None or rs["metadata"]["uid"] != new_rs["metadata"]["uid"]]
        if (deployment.get("spec") or {}).get("paused"):
            conditions = self._paused(deployment, new_rs, old_rss, conditions)
            self._write_status(deployment, new_rs, old_rss, conditions, rollout=False)
            return
        progressing = find_condition(conditions, "Progressing")
        if progressing is not None and progressing.get("reason") == "DeploymentPaused":
            conditions = _set(conditions, _condition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed"))
        if ((deployment.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            new_rs, conditions = self._recreate(deployment, new_rs, old_rss, conditions)
        else:
            new_rs, conditions = self._rolling(deployment, new_rs, old_rss, conditions)
        self._write_status(deployment, new_rs, old_rss, conditions, rollout=True)

    # ----------------------------------------------------------------- replica sets

    @staticmethod
    def _find_new(deployment: dict, owned: list[dict]) -> dict | None:
        """The ReplicaSet whose template is the Deployment's (ignoring the hash label), oldest first."""
        template = strip_label((deployment.get("spec") or {}).get("template"), POD_TEMPLATE_HASH)
        for rs in owned:
            if strip_label((rs.get("spec") or {}).get("template"), POD_TEMPLATE_HASH) == template:
                return rs
        expected = f"{deployment['metadata']['name']}-{_template_hash(deployment)}"
        return next((rs for rs in owned if rs["metadata"]["name"] == expected), None)

    def _sync_revision(self, deployment: dict, new_rs: dict, old_rss: list[dict]) -> dict:
        """Give the new ReplicaSet the next revision and the Deployment's annotations; copy the revision back."""
        revision = max(max([revision_of(rs) for rs in old_rss] + [0]) + 1, revision_of(new_rs))
        wanted = self._rs_annotations(deployment, revision)
        annotations = new_rs["metadata"].get("annotations") or {}
        if any(annotations.get(k) != v for k, v in wanted.items()):
            updated = clone(new_rs)
            updated["metadata"]["annotations"] = {**annotations, **wanted}
            new_rs = self._manager.update(updated)
        if ((deployment["metadata"].get("annotations") or {}).get(REVISION)) != str(revision):
            updated = clone(deployment)
            updated["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
            self._manager.update(updated)
        return new_rs

    @staticmethod
    def _rs_annotations(deployment: dict, revision: int) -> dict:
        desired = replicas_of(deployment)
        annotations = {k: v for k, v in (deployment["metadata"].get("annotations") or {}).items() if k not in NOT_COPIED}
        annotations[REVISION] = str(revision)
        annotations[DESIRED_REPLICAS] = str(desired)
        annotations[MAX_REPLICAS] = str(desired + fenceposts(deployment)[0])
        return annotations

    def _create_new(self, deployment: dict, old_rss: list[dict], replicas: int) -> dict | None:
        """Create the ReplicaSet of the current template; None when the name is taken by another template."""
        meta = deployment["metadata"]
        spec = deployment.get("spec") or {}
        template_hash = _template_hash(deployment)
        template = clone(spec.get("template") or {})
        template.setdefault("metadata", {}).setdefault("labels", {})[POD_TEMPLATE_HASH] = template_hash
        selector = clone(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[POD_TEMPLATE_HASH] = template_hash
        revision = max([revision_of(rs) for rs in old_rss] + [0]) + 1
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{template_hash}",
                "namespace": meta["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": self._rs_annotations(deployment, revision),
                "ownerReferences": [owner_reference(deployment)],
            },
            "spec": {"replicas": replicas, "minReadySeconds": int(spec.get("minReadySeconds") or 0), "selector": selector,
                     "template": template},
        }
        try:
            created = self._manager.create(rs)
        except ApiError as error:
            if error.code != 409:
                raise
            taken = self._manager.store.get("apps/replicasets", meta["namespace"], rs["metadata"]["name"])
            if taken is not None and any(ref.get("uid") == meta["uid"] for ref in taken["metadata"].get("ownerReferences") or []):
                return taken
            self._bump_collision_count(deployment)
            return None
        self._scaled_event(deployment, created, 0, replicas)
        if ((meta.get("annotations") or {}).get(REVISION)) != str(revision):
            updated = clone(deployment)
            updated["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
            self._manager.update(updated)
        return created

    def _bump_collision_count(self, deployment: dict) -> None:
        updated = clone(deployment)
        status = updated.setdefault("status", {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        self._manager.update(updated, subresource="status")

    def _scale(self, deployment: dict, rs: dict, replicas: int) -> dict:
        """Set a ReplicaSet's replicas (and its desired/max annotations) and record the ScalingReplicaSet event."""
        before = _replicas(rs)
        desired = replicas_of(deployment)
        annotations = {**(rs["metadata"].get("annotations") or {}), DESIRED_REPLICAS: str(desired),
                       MAX_REPLICAS: str(desired + fenceposts(deployment)[0])}
        updated = {**rs, "metadata": {**rs["metadata"], "annotations": annotations}, "spec": {**rs["spec"], "replicas": replicas}}
        result = self._manager.update(updated)
        if before != replicas:
            self._scaled_event(deployment, result, before, replicas)
        return result

    def _scaled_event(self, deployment: dict, rs: dict, before: int, after: int) -> None:
        if before == after:
            return
        direction = "up" if after > before else "down"
        self._manager.events.record(deployment, "Normal", "ScalingReplicaSet",
                                    f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {after}", COMPONENT)

    # ----------------------------------------------------------------- strategies

    def _ensure_new(self, deployment: dict, new_rs: dict | None, old_rss: list[dict], conditions: list[dict],
                    replicas: int) -> tuple[dict | None, list[dict]]:
        if new_rs is None:
            new_rs = self._create_new(deployment, old_rss, replicas)
            if new_rs is not None:
                conditions = _set(conditions, _condition("Progressing", "True", "NewReplicaSetCreated",
                                                         f'Created new replica set "{new_rs["metadata"]["name"]}"'))
            return new_rs, conditions
        before = revision_of(new_rs)
        new_rs = self._sync_revision(deployment, new_rs, old_rss)
        if revision_of(new_rs) != before or find_condition(conditions, "Progressing") is None:
            conditions = _set(conditions, _condition("Progressing", "True", "FoundNewReplicaSet",
                                                     f'Found new replica set "{new_rs["metadata"]["name"]}"'))
        return new_rs, conditions

    def _rolling(self, deployment: dict, new_rs: dict | None, old_rss: list[dict],
                 conditions: list[dict]) -> tuple[dict | None, list[dict]]:
        desired = replicas_of(deployment)
        surge, max_unavailable = fenceposts(deployment)
        if new_rs is None:
            current = sum(_replicas(rs) for rs in old_rss)
            initial = max(min(desired + surge - current, desired), 0) if old_rss else desired
            new_rs, conditions = self._ensure_new(deployment, None, old_rss, conditions, initial)
            return new_rs, conditions
        new_rs, conditions = self._ensure_new(deployment, new_rs, old_rss, conditions, _replicas(new_rs))
        # Scale the new ReplicaSet up within the surge (or down to the desired count).
        new_replicas = _replicas(new_rs)
        if new_replicas > desired:
            return self._scale(deployment, new_rs, desired), conditions
        if new_replicas < desired:
            total = new_replicas + sum(_replicas(rs) for rs in old_rss)
            room = min(desired + surge - total, desired - new_replicas)
            if room > 0:
                return self._scale(deployment, new_rs, new_replicas + room), conditions
        # Scale old ReplicaSets down while enough pods stay available.
        old_total = sum(_replicas(rs) for rs in old_rss)
        if old_total == 0:
            return new_rs, conditions
        all_total = old_total + new_replicas
        min_available = desired - max_unavailable
        new_unavailable = new_replicas - _available(new_rs)
        budget = all_total - min_available - new_unavailable
        if budget <= 0:
            return new_rs, conditions
        for rs in old_rss:  # first the old pods that are not available anyway
            unhealthy = _replicas(rs) - _available(rs)
            cut = min(budget, max(unhealthy, 0))
            if cut > 0:
                self._scale(deployment, rs, _replicas(rs) - cut)
                budget -= cut
        olds = [self._manager.cache.get("apps/replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"]) or rs
                for rs in old_rss]
        spare = sum(_available(rs) for rs in olds) + _available(new_rs) - min_available
        for current in olds:
            cut = min(spare, _replicas(current))
            if cut > 0:
                self._scale(deployment, current, _replicas(current) - cut)
                spare -= cut
        return new_rs, conditions

    def _recreate(self, deployment: dict, new_rs: dict | None, old_rss: list[dict],
                  conditions: list[dict]) -> tuple[dict | None, list[dict]]:
        desired = replicas_of(deployment)
        running_old = False
        for rs in old_rss:
            if _replicas(rs) > 0:
                self._scale(deployment, rs, 0)
                running_old = True
            elif _status(rs, "replicas") > 0:
                running_old = True
        if running_old:
            return new_rs, conditions
        new_rs, conditions = self._ensure_new(deployment, new_rs, old_rss, conditions, desired)
        if new_rs is not None and _replicas(new_rs) != desired:
            new_rs = self._scale(deployment, new_rs, desired)
        return new_rs, conditions

    def _paused(self, deployment: dict, new_rs: dict | None, old_rss: list[dict], conditions: list[dict]) -> list[dict]:
        """A paused Deployment only follows replica changes when a single ReplicaSet runs."""
        conditions = _set(conditions, _condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused"))
        desired = replicas_of(deployment)
        if new_rs is not None and not any(_replicas(rs) for rs in old_rss) and _replicas(new_rs) != desired:
            self._scale(deployment, new_rs, desired)
        return conditions

    def _cleanup(self, deployment: dict, old_rss: list[dict]) -> None:
        """Delete the oldest scaled-down ReplicaSets beyond ``revisionHistoryLimit``."""
        limit = (deployment.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        cleanable = [rs for rs in old_rss if not is_terminating(rs)]
        excess = len(cleanable) - limit
        for rs in sorted(cleanable, key=revision_of):
            if excess <= 0:
                break
            if _replicas(rs) == 0 and _status(rs, "replicas") == 0:
                self._manager.delete("apps/replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])
                excess -= 1

    # ----------------------------------------------------------------- status

    def _write_status(self, deployment: dict, new_rs: dict | None, old_rss: list[dict], conditions: list[dict], *,
                      rollout: bool) -> None:
        cache = self._manager.cache
        meta = deployment["metadata"]
        new_rs = cache.get("apps/replicasets", meta["namespace"], new_rs["metadata"]["name"]) or new_rs if new_rs else None
        olds = [cache.get("apps/replicasets", meta["namespace"], rs["metadata"]["name"]) or rs for rs in old_rss]
        everything = olds + ([new_rs] if new_rs else [])
        desired = replicas_of(deployment)
        old_status = deployment.get("status") or {}
        status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": sum(_status(rs, "replicas") for rs in everything),
            "updatedReplicas": _status(new_rs, "replicas"),
            "readyReplicas": sum(_status(rs, "readyReplicas") for rs in everything),
            "availableReplicas": sum(_status(rs, "availableReplicas") for rs in everything),
        }
        status["unavailableReplicas"] = max(desired - status["availableReplicas"], 0)
        if old_status.get("collisionCount"):
            status["collisionCount"] = old_status["collisionCount"]
        if status["availableReplicas"] >= desired - (fenceposts(deployment)[1] if desired else 0):
            conditions = _set(conditions, _condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."))
        else:
            conditions = _set(conditions, _condition("Available", "False", "MinimumReplicasUnavailable",
                                                     "Deployment does not have minimum availability."))
        failure = next((find_condition((rs.get("status") or {}).get("conditions"), "ReplicaFailure") for rs in everything
                        if find_condition((rs.get("status") or {}).get("conditions"), "ReplicaFailure")), None)
        if failure is not None:
            conditions = _set(conditions, _condition("ReplicaFailure", "True", failure.get("reason", "FailedCreate"),
                                                     failure.get("message", "")))
        else:
            conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
        if rollout:
            conditions = self._progress(deployment, new_rs, status, conditions)
        if conditions:
            status["conditions"] = conditions
        status = omit_zero(status)
        complete = (status.get("updatedReplicas", 0) == desired and status.get("replicas", 0) == desired
                    and status.get("availableReplicas", 0) == desired)
        if rollout and complete:
            self._cleanup(deployment, olds)
        if status != old_status:
            self._manager.update(with_status(deployment, status), subresource="status")

    def _progress(self, deployment: dict, new_rs: dict | None, status: dict, conditions: list[dict]) -> list[dict]:
        """The Progressing condition as ``syncRolloutStatus`` sets it, and a check when the deadline is due."""
        spec = deployment.get("spec") or {}
        deadline = spec.get("progressDeadlineSeconds")
        deadline = 600 if deadline is None else int(deadline)
        if deadline == NO_DEADLINE:
            return [c for c in conditions if c.get("type") != "Progressing"]
        current = find_condition(conditions, "Progressing")
        if status["replicas"] == status["updatedReplicas"] and current is not None and current.get("reason") == "NewReplicaSetAvailable":
            return conditions
        desired = replicas_of(deployment)
        subject = f'ReplicaSet "{new_rs["metadata"]["name"]}"' if new_rs else f'Deployment "{deployment["metadata"]["name"]}"'
        old = deployment.get("status") or {}
        if status["updatedReplicas"] == desired and status["replicas"] == desired and status["availableReplicas"] == desired:
            return _set(conditions, _condition("Progressing", "True", "NewReplicaSetAvailable", f"{subject} has successfully progressed."))
        old_old = int(old.get("replicas") or 0) - int(old.get("updatedReplicas") or 0)
        progressed = (status["updatedReplicas"] > int(old.get("updatedReplicas") or 0)
                      or status["replicas"] - status["updatedReplicas"] < old_old
                      or status["readyReplicas"] > int(old.get("readyReplicas") or 0)
                      or status["availableReplicas"] > int(old.get("availableReplicas") or 0))
        if progressed:
            return _set(conditions, _condition("Progressing", "True", "ReplicaSetUpdated", f"{subject} is progressing."), refresh=True)
        if current is None or current.get("reason") == "ProgressDeadlineExceeded":
            return conditions
        since = parse_rfc3339(current.get("lastUpdateTime")) or time.time()
        remaining = since + deadline - time.time()
        if remaining < 0:
            return _set(conditions, _condition("Progressing", "False", "ProgressDeadlineExceeded", f"{subject} has timed out progressing."))
        meta = deployment["metadata"]
        self._manager.enqueue_after(remaining + 0.01, self.key, meta["namespace"], meta["name"], counted=False)
        return conditions


def _template_hash(deployment: dict) -> str:
    status = deployment.get("status") or {}
    return compute_hash((deployment.get("spec") or {}).get("template") or {}, status.get("collisionCount"))
