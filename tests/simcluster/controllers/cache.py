"""The controllers' view of the store: the latest objects of the kinds they watch, indexed by owner uid."""

from __future__ import annotations

import threading

from .podtemplate import controller_ref


def _rv(obj: dict) -> int:
    """The resourceVersion as a number (0 when absent or not numeric)."""
    text = str((obj.get("metadata") or {}).get("resourceVersion") or "0")
    return int(text) if text.isdigit() else 0


# Deletions remembered to ignore late events about deleted objects; the oldest are forgotten past this.
MAX_TOMBSTONES = 50_000


class ObjectCache:
    """Objects by resource key and (namespace, name), plus children by their controller's uid.

    Fed from store events, which may arrive out of order from several writer threads: an event older than
    what the cache holds (lower resourceVersion, or older than a deletion) is ignored. Objects handed out
    are shared: callers must copy before changing them.
    """

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, dict[tuple[str, str], dict]] = {key: {} for key in keys}
        self._tombstones: dict[tuple[str, str, str], int] = {}
        self._children: dict[str, dict[str, set[tuple[str, str]]]] = {}
        self._owner: dict[tuple[str, str, str], str] = {}

    def watches(self, key: str) -> bool:
        """Whether objects of this resource key are cached."""
        return key in self._objects

    def apply(self, event_type: str, key: str, obj: dict) -> bool:
        """Record one store event; return False when it was stale and ignored."""
        meta = obj.get("metadata") or {}
        ident = (meta.get("namespace") or "", meta.get("name") or "")
        full = (key, *ident)
        version = _rv(obj)
        with self._lock:
            objects = self._objects[key]
            current = objects.get(ident)
            if current is not None and _rv(current) > version:
                return False
            if current is None and self._tombstones.get(full, -1) >= version > 0:
                return False
            if event_type == "DELETED":
                objects.pop(ident, None)
                self._tombstones[full] = version
                if len(self._tombstones) > MAX_TOMBSTONES:
                    for old in list(self._tombstones)[: MAX_TOMBSTONES // 2]:
                        del self._tombstones[old]
                self._set_owner(full, None)
                return True
            self._tombstones.pop(full, None)
            objects[ident] = obj
            ref = controller_ref(obj)
            self._set_owner(full, ref.get("uid") if ref else None)
            return True

    def _set_owner(self, full: tuple[str, str, str], owner_uid: str | None) -> None:
        previous = self._owner.get(full)
        if previous == owner_uid:
            return
        key, namespace, name = full
        if previous is not None:
            by_key = self._children.get(previous, {})
            by_key.get(key, set()).discard((namespace, name))
            if not any(by_key.values()):
                self._children.pop(previous, None)
            del self._owner[full]
        if owner_uid is not None:
            self._children.setdefault(owner_uid, {}).setdefault(key, set()).add((namespace, name))
            self._owner[full] = owner_uid

    def get(self, key: str, namespace: str, name: str) -> dict | None:
        """The cached object, or None."""
        with self._lock:
            return self._objects[key].get((namespace or "", name))

    def children(self, owner_uid: str, key: str) -> list[dict]:
        """The cached objects of ``key`` whose controller ownerReference names ``owner_uid``."""
        with self._lock:
            names = self._children.get(owner_uid, {}).get(key, ())
            objects = self._objects[key]
            found = [objects.get(ident) for ident in names]
        return [obj for obj in found if obj is not None and controller_ref(obj).get("uid") == owner_uid]

    def all(self, key: str) -> list[dict]:
        """Every cached object of one resource key."""
        with self._lock:
            return list(self._objects[key].values())
