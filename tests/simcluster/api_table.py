"""``meta.k8s.io/v1`` ``Table`` output, as ``kubectl get`` asks for it, with columns per kind like the real printers."""
from __future__ import annotations

from datetime import datetime, timezone

from .selectors import label_selector_to_string

NONE = "<none>"


def human_duration(seconds: float) -> str:
    """Render an age as the API server's printers do (``45s``, ``3m12s``, ``5h``, ``2d3h``)."""
    if seconds < -1:
        return "<invalid>"
    seconds = int(max(seconds, 0))
    minutes, hours = seconds // 60, seconds // 3600
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        return f"{hours // (24 * 365)}y{(hours // 24) % 365}d"
    return f"{hours // (24 * 365)}y"


def age(obj: dict) -> str:
    """The AGE cell of an object (from ``metadata.creationTimestamp``)."""
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return human_duration((datetime.now(timezone.utc) - created).total_seconds())


def _col(name: str, kind: str = "string", priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": kind, "format": fmt, "description": f"{name} column", "priority": priority}


def _containers(obj: dict) -> list:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []


def _names_images(obj: dict) -> list:
    containers = _containers(obj)
    return [",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


def _selector(obj: dict) -> str:
    return label_selector_to_string((obj.get("spec") or {}).get("selector")) or NONE


def _pod_status(pod: dict) -> str:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or ():
        state = container.get("state") or {}
        reason = (state.get("waiting") or {}).get("reason") or (state.get("terminated") or {}).get("reason")
        if reason:
            return reason
    return status.get("reason") or status.get("phase") or "Pending"


def _pod_row(pod: dict) -> list:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    return [f"{ready}/{total}", _pod_status(pod), restarts, age(pod), status.get("podIP") or NONE,
            (pod.get("spec") or {}).get("nodeName") or NONE, status.get("nominatedNodeName") or NONE, NONE]


def _deployment_row(obj: dict) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0), age(obj)] + _names_images(obj) + [_selector(obj)]


def _replicaset_row(obj: dict) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [spec.get("replicas", 1), status.get("replicas", 0), status.get("readyReplicas", 0), age(obj)] + \
        _names_images(obj) + [_selector(obj)]


def _statefulset_row(obj: dict) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", age(obj)] + _names_images(obj)


def _daemonset_row(obj: dict) -> list:
    status = obj.get("status") or {}
    node_selector = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [status.get("desiredNumberScheduled", 0), status.get("currentNumberScheduled", 0), status.get("numberReady", 0),
            status.get("updatedNumberScheduled", 0), status.get("numberAvailable", 0),
            ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or NONE, age(obj)] + _names_images(obj) + [_selector(obj)]


def _service_row(obj: dict) -> list:
    spec = obj.get("spec") or {}
    ports = ",".join(f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
                     for p in spec.get("ports") or ()) or NONE
    external = ",".join(spec.get("externalIPs") or ()) or ("<pending>" if spec.get("type") == "LoadBalancer" else NONE)
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or NONE
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP") or NONE, external, ports, age(obj), selector]


def _node_row(obj: dict) -> list:
    status = obj.get("status") or {}
    ready = next((c.get("status") for c in status.get("conditions") or () if c.get("type") == "Ready"), "Unknown")
    labels = (obj.get("metadata") or {}).get("labels") or {}
    roles = ",".join(sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))) or NONE
    return ["Ready" if ready == "True" else "NotReady", roles, age(obj), (status.get("nodeInfo") or {}).get("kubeletVersion", "")]


def _job_row(obj: dict) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    done = any(c.get("type") == "Complete" and c.get("status") == "True" for c in status.get("conditions") or ())
    return ["Complete" if done else "Running", f"{status.get('succeeded', 0)}/{spec.get('completions', 1)}", age(obj)]


def _webhooks_row(obj: dict) -> list:
    return [len(obj.get("webhooks") or []), age(obj)]


# key -> (columns after Name, row function); a column's priority 1 shows only with ``-o wide``.
_PRINTERS = {
    "pods": ([_col("Ready"), _col("Status"), _col("Restarts", "integer"), _col("Age"), _col("IP", priority=1),
              _col("Node", priority=1), _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)], _pod_row),
    "apps/deployments": ([_col("Ready"), _col("Up-to-date", "integer"), _col("Available", "integer"), _col("Age"),
                          _col("Containers", priority=1), _col("Images", priority=1), _col("Selector", priority=1)],
                         _deployment_row),
    "apps/replicasets": ([_col("Desired", "integer"), _col("Current", "integer"), _col("Ready", "integer"), _col("Age"),
                          _col("Containers", priority=1), _col("Images", priority=1), _col("Selector", priority=1)],
                         _replicaset_row),
    "apps/statefulsets": ([_col("Ready"), _col("Age"), _col("Containers", priority=1), _col("Images", priority=1)],
                          _statefulset_row),
    "apps/daemonsets": ([_col("Desired", "integer"), _col("Current", "integer"), _col("Ready", "integer"),
                         _col("Up-to-date", "integer"), _col("Available", "integer"), _col("Node Selector"), _col("Age"),
                         _col("Containers", priority=1), _col("Images", priority=1), _col("Selector", priority=1)],
                        _daemonset_row),
    "namespaces": ([_col("Status"), _col("Age")], lambda o: [(o.get("status") or {}).get("phase", "Active"), age(o)]),
    "services": ([_col("Type"), _col("Cluster-IP"), _col("External-IP"), _col("Port(s)"), _col("Age"),
                  _col("Selector", priority=1)], _service_row),
    "configmaps": ([_col("Data", "integer"), _col("Age")],
                   lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]),
    "secrets": ([_col("Type"), _col("Data", "integer"), _col("Age")],
                lambda o: [o.get("type", "Opaque"), len(o.get("data") or {}), age(o)]),
    "nodes": ([_col("Status"), _col("Roles"), _col("Age"), _col("Version")], _node_row),
    "batch/jobs": ([_col("Status"), _col("Completions"), _col("Age")], _job_row),
    "admissionregistration.k8s.io/mutatingwebhookconfigurations": ([_col("Webhooks", "integer"), _col("Age")], _webhooks_row),
    "admissionregistration.k8s.io/validatingwebhookconfigurations": ([_col("Webhooks", "integer"), _col("Age")], _webhooks_row),
    "apiextensions.k8s.io/customresourcedefinitions": ([_col("Created At", "date")],
                                                       lambda o: [(o.get("metadata") or {}).get("creationTimestamp", "")]),
}
_DEFAULT = ([_col("Age")], lambda o: [age(o)])


def _row_object(obj: dict, include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def table(key: str, objs: list[dict], include_object: str = "Metadata", list_meta: dict | None = None,
          with_columns: bool = True) -> dict:
    """Turn objects of resource ``key`` into a ``Table``; ``include_object`` is ``None``, ``Metadata`` or ``Object``."""
    columns, row_of = _PRINTERS.get(key, _DEFAULT)
    definitions = [_col("Name", fmt="name")] + columns
    rows = []
    for obj in objs:
        cells = [(obj.get("metadata") or {}).get("name", "")] + row_of(obj)
        row = {"cells": cells[:len(definitions)]}
        embedded = _row_object(obj, include_object)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    result = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": dict(list_meta or {})}
    if with_columns:
        result["columnDefinitions"] = definitions
    result["rows"] = rows
    return result


def wants_table(request) -> bool:
    """True when the client asks for ``meta.k8s.io`` Table output."""
    return "as=table" in request.header("accept").lower().replace(" ", "")


def wants_partial_metadata(request) -> bool:
    """True when the client asks for ``PartialObjectMetadata`` (or its list)."""
    return "as=partialobjectmetadata" in request.header("accept").lower().replace(" ", "")
