"""The simulated API server's storage: objects, resourceVersion, uid, generation, admission, cascade, watches.

Every public method takes and returns plain dicts that the caller owns (stored objects are never handed out).
One ``threading.RLock`` guards the state; subscribers run outside it, in commit order.

Simplifications (documented, deliberate):
- a continue token is served against the current data even when its resourceVersion is old;
- events.k8s.io events are stored apart from core events;
- deletion is immediate (no graceful pod termination); namespaces are removed at once with their content;
- admission hooks run for create and for main-resource updates, not for ``status``/``scale`` updates.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import logging
import random
import re
import threading
import uuid
from collections import deque
from datetime import datetime, timezone

from . import errors
from .patch import clone, record_update_manager
from .resources import Registry, ResourceType
from .selectors import label_selector_to_string, matches, matches_fields, parse_field_selector, parse_label_selector

LOG = logging.getLogger(__name__)

HISTORY_SIZE = 10_000
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generateName suffixes
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
                  "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
                  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with "
              "an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
_DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, "
                "and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
                "'[a-z]([-a-z0-9]*[a-z0-9])?')")
# Kinds whose names are path segments (RBAC allows "system:controller:x"), DNS labels, or DNS-1035 labels.
_PATH_SEGMENT_KEYS = {"rbac.authorization.k8s.io/roles", "rbac.authorization.k8s.io/rolebindings",
                      "rbac.authorization.k8s.io/clusterroles", "rbac.authorization.k8s.io/clusterrolebindings"}
_LABEL_NAME_KEYS = {"namespaces"}
_DNS1035_NAME_KEYS = {"services"}
# Built-in kinds that carry metadata.generation (custom resources always do).
_GENERATION_KEYS = {"pods", "replicationcontrollers", "apps/deployments", "apps/replicasets", "apps/statefulsets",
                    "apps/daemonsets", "batch/jobs", "batch/cronjobs", "policy/poddisruptionbudgets",
                    "autoscaling/horizontalpodautoscalers", "networking.k8s.io/ingresses", "networking.k8s.io/networkpolicies",
                    "apiextensions.k8s.io/customresourcedefinitions",
                    "admissionregistration.k8s.io/mutatingwebhookconfigurations",
                    "admissionregistration.k8s.io/validatingwebhookconfigurations"}
# Immutable fields checked on update: key -> dotted paths.
_IMMUTABLE = {"apps/deployments": ("spec.selector",), "apps/replicasets": ("spec.selector",),
              "apps/statefulsets": ("spec.selector",), "apps/daemonsets": ("spec.selector",), "batch/jobs": ("spec.selector",)}
# Finalizers the store acts on itself (the deletion propagation ones); any other one delays deletion.
_BUILTIN_FINALIZERS = {"orphan", "foregroundDeletion"}
_CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"


def now_rfc3339() -> str:
    """The current time as the API server writes timestamps (RFC 3339, seconds, ``Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ListResult(tuple):
    """``(items, resource_version)`` from ``Store.list``, with ``continue_token`` and ``remaining_item_count``."""

    def __new__(cls, items: list, resource_version: str, continue_token: str = "", remaining_item_count: int | None = None):
        result = super().__new__(cls, (items, resource_version))
        result.continue_token = continue_token
        result.remaining_item_count = remaining_item_count
        return result

    @property
    def items(self) -> list:
        """The objects of this page."""
        return self[0]

    @property
    def resource_version(self) -> str:
        """The list's resourceVersion (string)."""
        return self[1]


class _Record:
    """One committed change, kept in the history for watches."""

    __slots__ = ("rv", "type", "key", "namespace", "obj", "old")

    def __init__(self, rv: int, event_type: str, key: str, obj: dict, old: dict | None) -> None:
        self.rv = rv
        self.type = event_type
        self.key = key
        self.namespace = (obj.get("metadata") or {}).get("namespace") or ""
        self.obj = obj
        self.old = old


class Watch:
    """A watch on one resource key; ``next(timeout)`` returns ``(type, obj)`` or None when nothing came in time.

    ``next`` raises ApiError 410 Expired when the store was reset under the watch (the client must list again).
    """

    def __init__(self, store: Store, key: str, namespace: str | None, label_selector: str | None,
                 field_selector: str | None) -> None:
        self._store = store
        self.key = key
        self.namespace = namespace or None
        self._labels = parse_label_selector(label_selector)
        self._fields = parse_field_selector(field_selector, key)
        self._events: deque = deque()
        self._cond = threading.Condition(threading.Lock())
        self._expired = False
        self.closed = False

    def _select(self, obj: dict | None) -> bool:
        if obj is None:
            return False
        return matches(self._labels, (obj.get("metadata") or {}).get("labels")) and matches_fields(self._fields, obj)

    def _offer(self, record: _Record) -> None:
        """Queue the event this watch sees for a committed change (none, or one with selector transitions)."""
        if record.key != self.key or (self.namespace is not None and record.namespace != self.namespace):
            return
        now_in = record.type != "DELETED" and self._select(record.obj)
        if record.type == "ADDED":
            event = ("ADDED", record.obj) if now_in else None
        elif record.type == "DELETED":
            event = ("DELETED", record.obj) if self._select(record.obj) else None
        else:
            was_in = self._select(record.old)
            if was_in and now_in:
                event = ("MODIFIED", record.obj)
            elif now_in:
                event = ("ADDED", record.obj)
            elif was_in:
                gone = clone(record.old)
                gone["metadata"]["resourceVersion"] = str(record.rv)
                event = ("DELETED", gone)
            else:
                event = None
        if event is not None:
            with self._cond:
                self._events.append(event)
                self._cond.notify()

    def _expire(self) -> None:
        with self._cond:
            self._events.clear()
            self._expired = True
            self._cond.notify()

    def next(self, timeout: float | None = None) -> tuple[str, dict] | None:
        """Wait up to ``timeout`` seconds for the next event; return ``(type, obj)`` (a copy) or None."""
        with self._cond:
            if not self._events and not self._expired and not self.closed:
                self._cond.wait(timeout)
            if self._events:
                event_type, obj = self._events.popleft()
                return event_type, clone(obj)
            if self._expired:
                raise errors.gone("too old resource version: the simulated cluster was reset")
            return None

    def close(self) -> None:
        """Stop receiving events (idempotent)."""
        self.closed = True
        self._store._forget(self)  # pylint: disable=protected-access
        with self._cond:
            self._cond.notify_all()


class Store:
    """Thread-safe object store with the API server's semantics (see tests/simcluster/README.md)."""

    def __init__(self, registry: Registry | None = None, history_size: int = HISTORY_SIZE) -> None:
        self.registry = registry or Registry()
        self._lock = threading.RLock()
        self._rv = 0
        self._objects: dict[str, dict[str, dict[str, dict]]] = {}   # key -> namespace -> name -> obj
        self._index: dict[str, list[tuple[str, str]]] = {}          # key -> sorted (namespace, name)
        self._owned: dict[str, set[tuple[str, str, str]]] = {}      # owner uid -> {(key, namespace, name)}
        self._serialized: dict[tuple[str, str, str], tuple[dict, str, bytes]] = {}  # (key, ns, name) -> (obj, apiVersion, JSON)
        self._history: deque[_Record] = deque(maxlen=history_size)
        self._history_floor = 0                                     # events with rv <= floor are gone
        self._watches: list[Watch] = []
        self._hooks: list = []
        self._subscribers: list = []
        self._pending: deque = deque()
        self._drain_lock = threading.Lock()

    # ----------------------------------------------------------------------------------------- registration

    def add_admission_hook(self, fn) -> None:
        """Run ``fn(operation, key, obj, old, dry_run) -> obj`` on every create and update (``"CREATE"``/``"UPDATE"``).

        ``obj`` may be changed and returned; ``old`` (None on create) is one copy shared by every hook: read it only.
        """
        with self._lock:
            self._hooks.append(fn)

    def subscribe(self, fn) -> None:
        """Call ``fn(event_type, key, obj)`` after each committed change, outside the lock, in commit order."""
        with self._lock:
            self._subscribers.append(fn)

    @property
    def resource_version(self) -> str:
        """The current (latest committed) resourceVersion."""
        with self._lock:
            return str(self._rv)

    # ----------------------------------------------------------------------------------------- reads

    def _type(self, key: str) -> ResourceType:
        rt = self.registry.by_key(key)
        if rt is None:
            raise errors.ApiError(404, "NotFound", f"the server could not find the requested resource (resource {key!r} is not served)")
        return rt

    def get(self, key: str, namespace: str | None, name: str) -> dict | None:
        """The object (a copy) or None."""
        rt = self._type(key)
        with self._lock:
            obj = self._objects.get(key, {}).get(namespace or "" if rt.namespaced else "", {}).get(name)
            return clone(obj) if obj is not None else None

    def list(self, key: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None, limit: int | None = None, continue_after: str | None = None,
             copy: bool = True) -> ListResult:
        """Objects sorted by namespace then name, and the list's resourceVersion.

        ``copy=False`` returns the stored dicts themselves, for a caller that only serializes them and never
        changes them (committed objects are never modified in place, so they stay consistent).

        With ``limit``, at most that many items and a ``continue_token`` when more match; pass it back as
        ``continue_after`` for the next page (O(page) per call). The token carries the first page's
        resourceVersion, which later pages report; their data is current (simplification).
        """
        rt = self._type(key)
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, key)
        namespace = namespace if rt.namespaced and namespace else None
        start, list_rv = ("", ""), None
        if continue_after:
            start, list_rv = _decode_continue(continue_after)
        with self._lock:
            rv = list_rv if list_rv is not None else self._rv
            index = self._index.get(key, [])
            if namespace is not None:
                lo = bisect.bisect_right(index, (namespace, start[1])) if continue_after else bisect.bisect_left(index, (namespace, ""))
                hi = bisect.bisect_left(index, (namespace + "\x00", ""))
            else:
                lo = bisect.bisect_right(index, start) if continue_after else 0
                hi = len(index)
            bucket = self._objects.get(key, {})
            items, last, token, remaining = [], None, "", None
            selective = bool(labels or fields)
            for pos in range(lo, hi):
                ns, name = index[pos]
                obj = bucket[ns][name]
                if selective and not (matches(labels, obj["metadata"].get("labels")) and matches_fields(fields, obj)):
                    continue
                if limit and len(items) >= limit:
                    token = _encode_continue(rv, last)
                    remaining = None if selective else hi - pos
                    break
                items.append(clone(obj) if copy else obj)
                last = (ns, name)
        return ListResult(items, str(rv), token, remaining)

    def serialized(self, key: str, obj: dict, api_version: str, kind: str) -> bytes:
        """Compact JSON of a stored object (from ``list(..., copy=False)``) served as ``api_version`` and ``kind``.

        The text is kept until the object changes (stored objects are replaced, never modified in place), so
        listing the same objects again costs no encoding. The caller must not change ``obj``.
        """
        meta = obj["metadata"]
        slot = (key, meta.get("namespace") or "", meta["name"])
        cached = self._serialized.get(slot)
        if cached is not None and cached[0] is obj and cached[1] == api_version:
            return cached[2]
        text = json.dumps({**obj, "apiVersion": api_version, "kind": kind}, separators=(",", ":")).encode()
        with self._lock:
            if self._objects.get(key, {}).get(slot[1], {}).get(slot[2]) is obj:  # still stored: worth keeping
                self._serialized[slot] = (obj, api_version, text)
        return text

    def dump(self) -> dict[str, list[dict]]:
        """Every object grouped by key (keys sorted; objects by namespace then name)."""
        with self._lock:
            return {key: [clone(self._objects[key][ns][name]) for ns, name in self._index[key]]
                    for key in sorted(self._index) if self._index[key]}

    # ----------------------------------------------------------------------------------------- watches

    def watch(self, key: str, namespace: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, resource_version: str | None = None) -> Watch:
        """Watch changes after ``resource_version`` (None or ``"0"``: from now); ApiError 410 when it is too old."""
        self._type(key)
        watch = Watch(self, key, namespace, label_selector, field_selector)
        with self._lock:
            if resource_version not in (None, "", "0"):
                try:
                    since = int(resource_version)
                except ValueError as exc:
                    raise errors.bad_request(f"invalid resource version {resource_version!r}: expected an integer") from exc
                if since < self._history_floor:
                    raise errors.gone(f"too old resource version: {since} ({self._history_floor + 1})")
                for record in self._history:
                    if record.rv > since:
                        watch._offer(record)  # pylint: disable=protected-access
            self._watches.append(watch)
        return watch

    def _forget(self, watch: Watch) -> None:
        with self._lock:
            if watch in self._watches:
                self._watches.remove(watch)

    # ----------------------------------------------------------------------------------------- writes

    def create(self, obj: dict, *, dry_run: bool = False, field_manager: str | None = None) -> dict:
        """Create an object; fills uid, resourceVersion, creationTimestamp, generation, generateName; runs admission.

        Raises ApiError: AlreadyExists 409, Invalid 422, NotFound 404 (missing namespace or unserved kind).
        """
        obj = clone(obj)
        rt = self._type_of(obj)
        key = rt.key
        with self._lock:
            self._prepare_metadata(rt, obj).pop("uid", None)
            prepare_create(key, obj)
            apply_defaults(key, obj)
            self._fill_generated_name(rt, obj)
            for hook in list(self._hooks):
                obj = hook("CREATE", key, obj, None, dry_run) or obj
            meta = obj["metadata"]
            self._validate(rt, obj)
            if self._find(rt, meta.get("namespace", ""), meta["name"]) is not None:
                raise errors.already_exists(rt, meta["name"])
            meta.setdefault("uid", str(uuid.uuid4()))  # an admission hook may fix it (the Job selector needs it)
            meta["creationTimestamp"] = now_rfc3339()
            if key == "services":
                self._allocate_service_addresses(obj)
            if key in _GENERATION_KEYS or rt.custom:
                meta["generation"] = 1
            else:
                meta.pop("generation", None)
            for field in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(field, None)
            if field_manager:
                meta["managedFields"] = record_update_manager(None, obj, field_manager, rt.api_version, now_rfc3339())
            if dry_run:
                meta.pop("resourceVersion", None)
                return clone(obj)
            self._commit("ADDED", key, obj, None)
            result = clone(obj)
        self._drain()
        return result

    def update(self, obj: dict, *, dry_run: bool = False, subresource: str | None = None,
               field_manager: str | None = None, key: str | None = None) -> dict:
        """Replace an object (``subresource="status"``: only status; ``"scale"``: only spec.replicas).

        For ``"scale"``, ``obj`` is the object or an ``autoscaling/v1`` ``Scale`` (then ``key`` names the resource).

        A stale ``metadata.resourceVersion`` is a 409 Conflict, none means unconditional; a missing object is a
        404. ``generation`` rises when anything but metadata and status changes. An update that changes nothing
        returns the stored object without a new resourceVersion. Emptying the finalizers of an object that is
        being deleted removes it.
        """
        if subresource == "status":  # only the type, metadata and status are read: copy no more than those
            obj = {field: clone(value) for field, value in obj.items() if field in ("apiVersion", "kind", "metadata", "status")}
        else:
            obj = clone(obj)
        if subresource == "scale" and obj.get("kind") == "Scale":
            if not key:
                raise errors.bad_request("a Scale update needs the resource key of its target (update(..., key=...))")
            obj = {"metadata": obj.get("metadata") or {}, "spec": obj.get("spec") or {}}
            rt = self._type(key)
        else:
            rt = self._type_of(obj)
            key = rt.key
        with self._lock:
            meta = obj.setdefault("metadata", {})
            namespace = (meta.get("namespace") or "") if rt.namespaced else ""
            name = meta.get("name") or ""
            old = self._find(rt, namespace, name)
            if old is None:
                raise errors.not_found(rt, name)
            wanted_rv = meta.get("resourceVersion")
            if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt, name)
            if subresource == "status":
                # Stored objects are never changed in place, so the new one may share everything but its
                # metadata (written below) and its status (the caller's, copied above) with the old one.
                new = {**old, "metadata": clone(old["metadata"]), "status": obj.get("status")}
                if new["status"] is None:
                    new.pop("status")
            elif subresource == "scale":
                new = clone(old)
                _set_replicas(rt, new, (obj.get("spec") or {}).get("replicas"))
            elif subresource:
                raise errors.ApiError(404, "NotFound", f"the server could not find the requested resource ({key}/{subresource})")
            else:
                new = obj
                new["apiVersion"], new["kind"] = obj.get("apiVersion") or rt.api_version, rt.kind
                self._keep_system_metadata(rt, new, old)
                prepare_update(key, new, old)
                apply_defaults(key, new)
                old_view = clone(old) if self._hooks else old  # one copy for every hook: they must not change it
                for hook in list(self._hooks):
                    new = hook("UPDATE", key, new, old_view, dry_run) or new
                self._validate(rt, new)
                self._check_immutable(rt, new, old)
            if field_manager and subresource is None:
                new["metadata"]["managedFields"] = record_update_manager(old, new, field_manager, rt.api_version, now_rfc3339())
            if "generation" in old["metadata"] and _spec_changed(old, new):
                new["metadata"]["generation"] = old["metadata"]["generation"] + 1
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            if new == old:
                return clone(old)
            if dry_run:
                return clone(new)
            if old["metadata"].get("deletionTimestamp") and not _blocking_finalizers(new):
                self._remove(rt, old, "Background", new)
                result = clone(new)
            else:
                self._commit("MODIFIED", key, new, old)
                result = clone(new)
        self._drain()
        return result

    def delete(self, key: str, namespace: str | None, name: str, *, propagation: str = "Background",
               dry_run: bool = False, preconditions: dict | None = None) -> dict:
        """Delete an object and return it; owned objects go too unless ``propagation == "Orphan"``.

        Objects with finalizers (other than the propagation ones) get ``deletionTimestamp`` and stay until an
        update empties ``metadata.finalizers``. Deleting a namespace deletes every object in it.
        """
        rt = self._type(key)
        if propagation not in ("Background", "Foreground", "Orphan"):
            raise errors.bad_request(f"propagationPolicy {propagation!r} is not supported: use Background, Foreground or Orphan")
        with self._lock:
            old = self._find(rt, (namespace or "") if rt.namespaced else "", name)
            if old is None:
                raise errors.not_found(rt, name)
            for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                wanted = (preconditions or {}).get(field)
                if wanted and wanted != old["metadata"].get(field):
                    raise errors.conflict(rt, name, f"Precondition failed: {label} in precondition: {wanted}, "
                                                    f"{label} in object meta: {old['metadata'].get(field)}")
            if dry_run:
                return clone(old)
            if _blocking_finalizers(old):
                if old["metadata"].get("deletionTimestamp"):
                    return clone(old)
                new = clone(old)
                new["metadata"]["deletionTimestamp"] = now_rfc3339()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                self._commit("MODIFIED", key, new, old)
                result = clone(new)
            else:
                result = clone(self._remove(rt, old, propagation, None))
        self._drain()
        return result

    def load(self, objs, *, create_namespaces: bool = False) -> int:
        """Bulk insert (or replace) objects without admission; fill missing metadata; return how many were stored.

        With ``create_namespaces``, a missing namespace is created first; otherwise it is a 404.
        """
        count = 0
        now = now_rfc3339()
        namespaces = self._type("namespaces")
        with self._lock:
            for source in objs:
                if not source:
                    continue
                obj = clone(source)
                rt = self._type_of(obj)
                meta = self._prepare_metadata(rt, obj, default_namespace="default")
                if meta.get("namespace") and create_namespaces and self._find(namespaces, "", meta["namespace"]) is None:
                    self._load_one(namespaces, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": meta["namespace"]}}, now)
                self._load_one(rt, obj, now)
                count += 1
        self._drain()
        return count

    def reset(self) -> None:
        """Forget every object and CRD (subscribers and admission hooks stay); open watches expire (410)."""
        with self._lock:
            self._objects, self._index, self._owned, self._serialized = {}, {}, {}, {}
            self._history.clear()
            self._history_floor = self._rv
            for rt in self.registry.all():
                if rt.custom:
                    self.registry.unregister_crd({"spec": {"group": rt.group, "names": {"plural": rt.plural}}})
            watches, self._watches = self._watches, []
        for watch in watches:
            watch._expire()  # pylint: disable=protected-access

    # ----------------------------------------------------------------------------------------- internals

    def _type_of(self, obj: dict) -> ResourceType:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not api_version or not kind:
            raise errors.bad_request("Object 'Kind' is missing or 'apiVersion' is missing in the object: every object needs both")
        rt = self.registry.by_kind(api_version, kind)
        if rt is None:
            raise errors.ApiError(404, "NotFound", f'the server could not find the requested resource: no matches for kind "{kind}" '
                                  f'in version "{api_version}"')
        return self.registry.by_key(rt.key) or rt

    def _allocate_service_addresses(self, service: dict) -> None:
        """Give a new Service a cluster IP (10.96.0.0/16) and node ports, as the API server's allocators do."""
        spec = service.setdefault("spec", {})
        used_ips, used_ports = set(), set()
        for names in self._objects.get("services", {}).values():
            for other in names.values():
                other_spec = other.get("spec") or {}
                used_ips.add(other_spec.get("clusterIP"))
                used_ports.update(p.get("nodePort") for p in other_spec.get("ports") or ())
        if not spec.get("clusterIP") and spec.get("type") != "ExternalName":
            while True:
                ip = f"10.96.{random.randint(0, 255)}.{random.randint(1, 254)}"
                if ip not in used_ips:
                    break
            spec["clusterIP"] = ip
        if spec.get("clusterIP"):
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or ():
                if not port.get("nodePort"):
                    port["nodePort"] = random.choice([n for n in range(30000, 32768) if n not in used_ports])
                used_ports.add(port["nodePort"])

    def _find(self, rt: ResourceType, namespace: str, name: str) -> dict | None:
        return self._objects.get(rt.key, {}).get(namespace if rt.namespaced else "", {}).get(name)

    def _prepare_metadata(self, rt: ResourceType, obj: dict, default_namespace: str | None = None) -> dict:
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if rt.namespaced:
            if not meta.get("namespace"):
                if default_namespace is None:
                    raise errors.invalid(rt, meta.get("name", ""), [errors.invalid_cause(
                        "metadata.namespace", "", "", "FieldValueRequired")])
                meta["namespace"] = default_namespace
        else:
            meta.pop("namespace", None)
        return meta

    def _fill_generated_name(self, rt: ResourceType, obj: dict) -> None:
        meta = obj["metadata"]
        if meta.get("name") or not meta.get("generateName"):
            return
        prefix = meta["generateName"][:58]
        for _attempt in range(10):
            name = prefix + "".join(random.choices(_NAME_CHARS, k=5))
            if self._find(rt, meta.get("namespace", ""), name) is None:
                meta["name"] = name
                return
        raise errors.ApiError(409, "AlreadyExists", f"{rt.plural} could not generate a unique name for {prefix!r}: "
                              "try again or choose another generateName")

    def _validate(self, rt: ResourceType, obj: dict) -> None:
        meta = obj["metadata"]
        name = meta.get("name") or ""
        if not name:
            raise errors.invalid(rt, "", [errors.invalid_cause("metadata.name", "", "name or generateName is required",
                                                               "FieldValueRequired")])
        causes = []
        if rt.key in _PATH_SEGMENT_KEYS:
            if name in (".", "..") or "/" in name or "%" in name:
                causes.append(errors.invalid_cause("metadata.name", name, "may not contain '/' or '%' and may not be '.' or '..'"))
        elif rt.key in _LABEL_NAME_KEYS:
            if len(name) > 63 or not _LABEL_RE.match(name):
                causes.append(errors.invalid_cause("metadata.name", name, _LABEL_MSG))
        elif rt.key in _DNS1035_NAME_KEYS:
            if len(name) > 63 or not _DNS1035_RE.match(name):
                causes.append(errors.invalid_cause("metadata.name", name, _DNS1035_MSG))
        elif len(name) > 253 or not _SUBDOMAIN_RE.match(name):
            causes.append(errors.invalid_cause("metadata.name", name, _SUBDOMAIN_MSG))
        if rt.key == _CRD_KEY:
            spec = obj.get("spec") or {}
            expected = f"{(spec.get('names') or {}).get('plural', '')}.{spec.get('group', '')}"
            if name != expected:
                causes.append(errors.invalid_cause("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"))
            # ValidateCustomResourceDefinitionStoredVersions: a version once stored stays in spec.versions
            versions = {v.get("name") for v in spec.get("versions") or ()}
            for index, stored in enumerate((obj.get("status") or {}).get("storedVersions") or ()):
                if stored not in versions:
                    causes.append(errors.invalid_cause(
                        "status.storedVersions[%d]" % index, stored,
                        "missing from spec.versions; %(v)s was previously a storage version, and must remain in spec.versions "
                        "until a storage migration ensures no data remains persisted in %(v)s and removes %(v)s from "
                        "status.storedVersions" % {"v": stored}))
        if causes:
            raise errors.invalid(rt, name, causes)
        if rt.namespaced and self._find(self._type("namespaces"), "", meta["namespace"]) is None:
            raise errors.namespace_not_found(meta["namespace"])

    def _check_immutable(self, rt: ResourceType, new: dict, old: dict) -> None:
        causes = []
        for path in _IMMUTABLE.get(rt.key, ()):
            before, after = _dig(old, path), _dig(new, path)
            if before != after:
                causes.append(errors.invalid_cause(path, json.dumps(after, sort_keys=True), "field is immutable"))
        if causes:
            raise errors.invalid(rt, new["metadata"]["name"], causes)

    @staticmethod
    def _keep_system_metadata(rt: ResourceType, new: dict, old: dict) -> None:
        """Fields a client cannot change with an update: uid, creationTimestamp, generation, deletion, namespace."""
        meta, before = new.setdefault("metadata", {}), old["metadata"]
        for field in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if field in before:
                meta[field] = before[field]
            else:
                meta.pop(field, None)
        if "managedFields" not in meta and "managedFields" in before:
            meta["managedFields"] = before["managedFields"]
        if rt.namespaced:
            meta["namespace"] = before["namespace"]
        if rt.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)

    def _load_one(self, rt: ResourceType, obj: dict, now: str) -> None:
        meta = obj["metadata"]
        if not meta.get("name"):
            raise errors.invalid(rt, "", [errors.invalid_cause("metadata.name", "", "name is required", "FieldValueRequired")])
        apply_defaults(rt.key, obj)
        if rt.namespaced and self._find(self._type("namespaces"), "", meta["namespace"]) is None:
            raise errors.namespace_not_found(meta["namespace"])
        old = self._find(rt, meta.get("namespace", ""), meta["name"])
        if "uid" not in meta:
            meta["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
        if "creationTimestamp" not in meta:
            meta["creationTimestamp"] = old["metadata"]["creationTimestamp"] if old else now
        if (rt.key in _GENERATION_KEYS or rt.custom) and "generation" not in meta:
            meta["generation"] = 1
        self._commit("MODIFIED" if old else "ADDED", rt.key, obj, old)

    def _remove(self, rt: ResourceType, obj: dict, propagation: str, final: dict | None) -> dict:
        """Remove a stored object (already checked) with its dependents; return the deleted object."""
        meta = obj["metadata"]
        uid = meta.get("uid")
        gone = clone(final if final is not None else obj)
        self._commit("DELETED", rt.key, gone, obj)
        if rt.key == "namespaces":
            for key in list(self._objects):
                bucket = self._objects[key].get(meta["name"])
                if key != "namespaces" and bucket:
                    inner = self.registry.by_key(key)
                    for child in list(bucket.values()):
                        if self._find(inner, meta["name"], child["metadata"]["name"]) is child:
                            self._remove(inner, child, "Background", None)
        for key, namespace, name in sorted(self._owned.get(uid, ())):
            inner = self.registry.by_key(key)
            child = self._find(inner, namespace, name) if inner else None
            if child is None:
                continue
            if propagation == "Orphan":
                orphan = clone(child)
                refs = [r for r in orphan["metadata"].get("ownerReferences", []) if r.get("uid") != uid]
                if refs:
                    orphan["metadata"]["ownerReferences"] = refs
                else:
                    orphan["metadata"].pop("ownerReferences", None)
                self._commit("MODIFIED", key, orphan, child)
            elif _blocking_finalizers(child):
                if not child["metadata"].get("deletionTimestamp"):
                    marked = clone(child)
                    marked["metadata"]["deletionTimestamp"] = now_rfc3339()
                    marked["metadata"]["deletionGracePeriodSeconds"] = 0
                    self._commit("MODIFIED", key, marked, child)
            else:
                self._remove(inner, child, propagation, None)
        return gone

    def _commit(self, event_type: str, key: str, obj: dict, old: dict | None) -> None:
        """Store (or remove) ``obj`` under a new resourceVersion and queue the events; caller holds the lock."""
        self._rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._rv)
        namespace, name = meta.get("namespace") or "", meta["name"]
        self._serialized.pop((key, namespace, name), None)
        bucket = self._objects.setdefault(key, {})
        index = self._index.setdefault(key, [])
        if old is not None:
            for ref in old["metadata"].get("ownerReferences") or ():
                self._owned.get(ref.get("uid"), set()).discard((key, namespace, name))
        if event_type == "DELETED":
            names = bucket.get(namespace, {})
            names.pop(name, None)
            if not names:
                bucket.pop(namespace, None)
            pos = bisect.bisect_left(index, (namespace, name))
            if pos < len(index) and index[pos] == (namespace, name):
                del index[pos]
            if key == _CRD_KEY:
                self._drop_crd(obj)
        else:
            names = bucket.setdefault(namespace, {})
            if name not in names:
                bisect.insort(index, (namespace, name))
            names[name] = obj
            for ref in meta.get("ownerReferences") or ():
                self._owned.setdefault(ref.get("uid"), set()).add((key, namespace, name))
            if key == _CRD_KEY:
                self.registry.register_crd(obj)
        if len(self._history) == self._history.maxlen:
            self._history_floor = self._history[0].rv
        record = _Record(self._rv, event_type, key, obj, old)
        self._history.append(record)
        for watch in self._watches:
            watch._offer(record)  # pylint: disable=protected-access
        if self._subscribers:
            self._pending.append((event_type, key, obj))

    def _drop_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        key = f"{spec.get('group', '')}/{(spec.get('names') or {}).get('plural', '')}"
        rt = self.registry.by_key(key)
        if rt is not None:
            for namespace, name in list(self._index.get(key, [])):
                child = self._find(rt, namespace, name)
                if child is not None:
                    self._remove(rt, child, "Background", None)
        self.registry.unregister_crd(crd)

    def _drain(self) -> None:
        """Deliver queued events to subscribers, outside the store lock, in commit order (one thread at a time)."""
        while self._pending:
            if not self._drain_lock.acquire(blocking=False):
                return
            try:
                while self._pending:
                    event_type, key, obj = self._pending.popleft()
                    for fn in list(self._subscribers):
                        try:
                            fn(event_type, key, clone(obj))
                        except Exception:  # pylint: disable=broad-except
                            LOG.exception("store subscriber %r failed on %s %s", fn, event_type, key)
            finally:
                self._drain_lock.release()


def to_scale(rt: ResourceType, obj: dict) -> dict:
    """The ``autoscaling/v1`` ``Scale`` of an object with a scale subresource."""
    spec_path, status_path, selector_path = rt.scale_paths if rt.custom else ("spec.replicas", "status.replicas", "")
    meta = obj["metadata"]
    status = {"replicas": _dig(obj, status_path) or 0}
    selector = _dig(obj, selector_path) if selector_path else _dig(obj, "spec.selector")
    if isinstance(selector, dict):
        selector = label_selector_to_string(selector)
    if selector:
        status["selector"] = selector
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta},
            "spec": {"replicas": _dig(obj, spec_path) or 0}, "status": status}


def _set_replicas(rt: ResourceType, obj: dict, replicas) -> None:
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid("Scale", obj["metadata"]["name"], [errors.invalid_cause(
            "spec.replicas", replicas, "must be greater than or equal to 0")])
    path = (rt.scale_paths[0] if rt.custom else "spec.replicas").lstrip(".").split(".")
    target = obj
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = replicas


def _dig(obj: dict, path: str):
    value = obj
    for part in path.lstrip(".").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _spec_changed(old: dict, new: dict) -> bool:
    keys = (set(old) | set(new)) - {"metadata", "status", "apiVersion", "kind"}
    return any(old.get(k) != new.get(k) for k in keys)


def _blocking_finalizers(obj: dict) -> bool:
    return any(f not in _BUILTIN_FINALIZERS for f in obj["metadata"].get("finalizers") or ())


def _encode_continue(rv: int, last: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": list(last)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_continue(token: str) -> tuple[tuple[str, str], int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        start = data["start"]
        return (str(start[0]), str(start[1])), int(data["rv"])
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"continue key is not valid: {token!r} is not a token this server issued; "
                                 "start the list again without 'continue'") from exc


# Defaulting of the kinds the store itself looks after (namespaces, services, secrets, CRDs) -------------------

def apply_defaults(key: str, obj: dict) -> None:
    """Fill the defaults the real API server writes for namespaces, services, secrets and CRDs.

    Pods and workloads are defaulted by the controllers' admission hook (``controllers/defaults.py``).
    """
    spec = obj.get("spec")
    if key == "namespaces":
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    elif key == "services" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        if spec["type"] != "ExternalName":
            spec.setdefault("sessionAffinity", "None")
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if spec["type"] == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        for port in spec.get("ports") or ():
            port.setdefault("protocol", "TCP")
            if spec["type"] != "ExternalName":
                port.setdefault("targetPort", port.get("port"))
        obj.setdefault("status", {}).setdefault("loadBalancer", {})
    elif key == "secrets":
        obj.setdefault("type", "Opaque")
    elif key == _CRD_KEY and not (obj.get("status") or {}).get("conditions"):
        _establish_crd(obj)


def _establish_crd(crd: dict) -> None:
    """Write the status the apiextensions controllers write once a CRD's names are accepted."""
    spec = crd.get("spec") or {}
    now = now_rfc3339()
    names = dict(spec.get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    crd["status"] = {
        "acceptedNames": names,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts",
             "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted"},
        ],
        "storedVersions": [v["name"] for v in spec.get("versions") or () if v.get("storage")],
    }


def prepare_create(key: str, obj: dict) -> None:
    """Reset what a client cannot set on create: the status of kinds with a status subresource."""
    if key in _STATUS_RESET_KEYS:
        obj.pop("status", None)
    if key == "pods":
        obj["status"] = {"phase": "Pending"}


_STATUS_RESET_KEYS = {"namespaces", "pods", "apps/deployments", "apps/replicasets", "apps/statefulsets", "apps/daemonsets",
                      "batch/jobs", "batch/cronjobs", "policy/poddisruptionbudgets", "autoscaling/horizontalpodautoscalers",
                      "replicationcontrollers", _CRD_KEY}


def prepare_update(key: str, new: dict, old: dict) -> None:
    """Carry over what an update may omit: a Service's allocated addresses, a Namespace's finalizers and status."""
    if key == "services":
        spec, before = new.setdefault("spec", {}), old.get("spec") or {}
        for field in ("clusterIP", "clusterIPs"):
            if not spec.get(field) and before.get(field):
                spec[field] = before[field]
        ports_before = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in before.get("ports") or ()}
        for port in spec.get("ports") or ():
            if not port.get("nodePort") and ports_before.get((port.get("port"), port.get("protocol", "TCP"))):
                port["nodePort"] = ports_before[(port.get("port"), port.get("protocol", "TCP"))]
    elif key == "namespaces":
        new["status"] = old.get("status")
    elif key == _CRD_KEY:
        # apiextensions' PrepareForUpdate: the status is the stored one; a new storage version joins storedVersions
        status = new["status"] = clone(old.get("status") or {})
        stored = status.setdefault("storedVersions", [])
        storage = next((v.get("name") for v in (new.get("spec") or {}).get("versions") or () if v.get("storage")), None)
        if storage and storage not in stored:
            stored.append(storage)
