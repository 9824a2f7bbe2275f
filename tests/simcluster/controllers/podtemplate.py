"""Helpers shared by the controllers: template hashes, owner references, pod state and timestamps."""

from __future__ import annotations

import datetime
import json
import math

from ..errors import ApiError
from ..patch import clone
from .retry import RetryLater

# The alphabet Kubernetes uses for generated names and hashes (no vowels, no look-alike digits).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
POD_TEMPLATE_HASH = "pod-template-hash"
CONTROLLER_REVISION_HASH = "controller-revision-hash"

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def _fnv32a(data: bytes) -> int:
    """32-bit FNV-1a, the hash the real controllers feed their templates through."""
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def compute_hash(template: dict, collision_count: int | None = None) -> str:
    """A stable short hash of a pod template (or any JSON value), e.g. ``"7c5ddbdf54"``-like.

    Canonical JSON goes through FNV-1a; the decimal value is spelled in ``SAFE_ALPHABET`` as the real
    controllers do, so the result is at most 10 characters of ``[bcdfghjklmnpqrstvwxz2456789]``.
    ``collision_count`` (``status.collisionCount``) changes the hash when a name is already taken.
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return "".join(SAFE_ALPHABET[ord(char) % len(SAFE_ALPHABET)] for char in str(_fnv32a(data)))


def now_rfc3339(now: float | None = None) -> str:
    """A Kubernetes timestamp (``2026-01-02T03:04:05Z``, whole seconds) for ``now`` or the current time."""
    moment = datetime.datetime.fromtimestamp(now if now is not None else _time(), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str | None) -> float | None:
    """Seconds since the epoch of a Kubernetes timestamp, or None when absent or malformed."""
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
    except ValueError:
        return None


def _time() -> float:
    return datetime.datetime.now(tz=datetime.timezone.utc).timestamp()


def owner_reference(owner: dict) -> dict:
    """The controller ownerReference a child of ``owner`` carries (controller and blockOwnerDeletion true)."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_ref(obj: dict) -> dict | None:
    """The ownerReference marked ``controller: true`` of an object, or None."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def strip_label(template: dict | None, label: str) -> dict:
    """A pod template without one label, to compare templates ignoring their hash label (shares all else: do not change it)."""
    template = template or {}
    labels = (template.get("metadata") or {}).get("labels")
    if not labels or label not in labels:
        return template
    return {**template, "metadata": {**template["metadata"], "labels": {k: v for k, v in labels.items() if k != label}}}


def with_status(obj: dict, status: dict) -> dict:
    """The object with another status, for a status update (a shallow copy: the store copies what it stores)."""
    return {**obj, "status": status}


def new_pod(template: dict, owner: dict, *, name: str | None = None, labels: dict | None = None) -> dict:
    """A pod built from ``template`` for ``owner``: named ``name`` or generated as ``<owner>-xxxxx``."""
    template = clone(template or {})
    tmeta = template.get("metadata") or {}
    metadata = {
        "namespace": owner["metadata"]["namespace"],
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [owner_reference(owner)],
    }
    metadata["labels"].update(labels or {})
    if tmeta.get("annotations"):
        metadata["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        metadata["finalizers"] = list(tmeta["finalizers"])
    if name:
        metadata["name"] = name
    else:
        metadata["generateName"] = owner["metadata"]["name"] + "-"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template.get("spec") or {}}


def is_terminating(obj: dict) -> bool:
    """Whether the object carries a deletionTimestamp."""
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def is_active(pod: dict) -> bool:
    """A pod that counts towards replicas: not terminating, not Succeeded or Failed."""
    return not is_terminating(pod) and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def pod_condition(pod: dict, condition_type: str) -> dict | None:
    """One status condition of a pod by type, or None."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def is_ready(pod: dict) -> bool:
    """Whether the pod is Running with condition Ready True."""
    condition = pod_condition(pod, "Ready")
    return (pod.get("status") or {}).get("phase") == "Running" and condition is not None and condition.get("status") == "True"


def available_at(pod: dict, min_ready_seconds: int) -> float | None:
    """When a ready pod counts as available (Ready since ``min_ready_seconds``); None if not ready."""
    if not is_ready(pod):
        return None
    if not min_ready_seconds:
        return 0.0
    since = parse_rfc3339((pod_condition(pod, "Ready") or {}).get("lastTransitionTime")) or 0.0
    return since + min_ready_seconds


def scaled_value(value, total: int, round_up: bool) -> int:
    """An int-or-percent (``2``, ``"25%"``) resolved against ``total`` with Kubernetes' rounding."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%"):
        fraction = float(text[:-1]) * total / 100.0
        return int(math.ceil(fraction)) if round_up else int(math.floor(fraction))
    return int(text)


def set_condition(conditions: list[dict], condition: dict) -> list[dict]:
    """Replace or add a condition by type; keep ``lastTransitionTime`` when the status did not change."""
    result = []
    replaced = False
    for existing in conditions:
        if existing.get("type") == condition["type"]:
            if existing.get("status") == condition.get("status") and "lastTransitionTime" in existing:
                condition = dict(condition, lastTransitionTime=existing["lastTransitionTime"])
            result.append(condition)
            replaced = True
        else:
            result.append(existing)
    if not replaced:
        result.append(condition)
    return result


def find_condition(conditions: list[dict] | None, condition_type: str) -> dict | None:
    """A condition by type in a status conditions list, or None."""
    for condition in conditions or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def replicas_of(obj: dict, default: int = 1) -> int:
    """``spec.replicas`` with the API server's default."""
    value = (obj.get("spec") or {}).get("replicas")
    return default if value is None else int(value)


def omit_zero(status: dict, keep: tuple[str, ...] = ()) -> dict:
    """Drop zero counters from a status, as Go's ``omitempty`` does, except the fields named in ``keep``."""
    return {k: v for k, v in status.items() if k in keep or not (isinstance(v, int) and not isinstance(v, bool) and v == 0)}


def create_pod(manager, owner: dict, pod: dict, component: str) -> dict:
    """Create a pod for ``owner``; a refusal is recorded as a ``FailedCreate`` Warning and raised as RetryLater."""
    try:
        return manager.create(pod)
    except ApiError as error:
        manager.events.record(owner, "Warning", "FailedCreate", f"Error creating: {error.message}", component)
        raise RetryLater(error.message) from error
