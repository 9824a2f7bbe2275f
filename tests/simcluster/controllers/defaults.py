"""The API server's defaulting for workload kinds and pods, run as an admission hook so stored objects look real."""

from __future__ import annotations

import uuid

CREATE = "CREATE"
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def apply_defaults(operation: str, key: str, obj: dict, old: dict | None, dry_run: bool) -> dict:  # pylint: disable=unused-argument
    """Admission hook: fill the fields the real API server defaults on create and update (``dry_run`` changes nothing)."""
    handler = _HANDLERS.get(key)
    if handler is None or operation.upper() not in (CREATE, "UPDATE"):
        return obj
    if key == "pods" or isinstance(obj.get("spec"), dict):
        handler(obj, old, operation.upper() == CREATE)
    return obj


def default_pod_spec(spec: dict) -> None:
    """Default a pod spec as the API server does (restart policy, DNS, scheduler, container fields)."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        _default_container(container)


def _default_container(container: dict) -> None:
    image = container.get("image") or ""
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
    container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")


def _template_spec(obj: dict) -> None:
    template = obj["spec"].setdefault("template", {})
    default_pod_spec(template.setdefault("spec", {}))


def _pod(obj: dict, old: dict | None, create: bool) -> None:  # pylint: disable=unused-argument
    spec = obj.setdefault("spec", {})
    default_pod_spec(spec)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    if create:
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(spec)}


def _qos_class(spec: dict) -> str:
    """The QoS class of a pod spec: BestEffort with no requests or limits, Guaranteed when limits equal requests."""
    containers = spec.get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        r.get("limits") and all(r["limits"].get(k) == (r.get("requests") or r["limits"]).get(k) for k in ("cpu", "memory"))
        and {"cpu", "memory"} <= set(r["limits"])
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _deployment(obj: dict, old: dict | None, create: bool) -> None:  # pylint: disable=unused-argument
    spec = obj["spec"]
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template_spec(obj)


def _replicaset(obj: dict, old: dict | None, create: bool) -> None:  # pylint: disable=unused-argument
    obj["spec"].setdefault("replicas", 1)
    _template_spec(obj)


def _statefulset(obj: dict, old: dict | None, create: bool) -> None:  # pylint: disable=unused-argument
    spec = obj["spec"]
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    _template_spec(obj)


def _daemonset(obj: dict, old: dict | None, create: bool) -> None:
    spec = obj["spec"]
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template_spec(obj)
    annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
    if create or old is None:
        annotations[TEMPLATE_GENERATION] = "1"
        return
    previous = int(((old.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_GENERATION) or "1")
    changed = (old.get("spec") or {}).get("template") != spec.get("template")
    annotations[TEMPLATE_GENERATION] = str(previous + 1 if changed else previous)


def _job(obj: dict, old: dict | None, create: bool) -> None:
    spec = obj["spec"]
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("manualSelector", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template_spec(obj)
    meta = obj.setdefault("metadata", {})
    if not create and old is not None:
        meta.setdefault("uid", (old.get("metadata") or {}).get("uid"))
    if spec["manualSelector"] or spec.get("selector"):
        return
    # The real server generates the selector from the Job's uid; the uid is fixed here so the store keeps it.
    uid = meta.setdefault("uid", str(uuid.uuid4()))
    name = meta.get("name") or ""
    labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name, "controller-uid": uid, "job-name": name}
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    template_meta = spec["template"].setdefault("metadata", {})
    template_meta["labels"] = {**(template_meta.get("labels") or {}), **labels}


_HANDLERS = {
    "pods": _pod,
    "apps/deployments": _deployment,
    "apps/replicasets": _replicaset,
    "apps/statefulsets": _statefulset,
    "apps/daemonsets": _daemonset,
    "batch/jobs": _job,
}
