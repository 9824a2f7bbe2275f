"""Core v1 Events written by the controllers, aggregated like client-go's event recorder."""

from __future__ import annotations

import logging
import threading

from ..errors import ApiError
from .podtemplate import now_rfc3339

LOG = logging.getLogger(__name__)


class EventRecorder:
    """Writes ``Event`` objects through the store; a repeat of the same event raises its ``count``."""

    def __init__(self, store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._sequence = 0
        self._seen: dict[tuple[str, str, str, str], tuple[str, str]] = {}

    def record(self, obj: dict, event_type: str, reason: str, message: str, component: str) -> None:
        """Record ``reason``/``message`` about ``obj`` (``event_type`` Normal or Warning) from ``component``.

        Events are best effort, as in Kubernetes: a failure to write one is logged, never raised.
        """
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        identity = (meta.get("uid") or "", event_type, reason, message)
        now = now_rfc3339()
        try:
            with self._lock:
                seen = self._seen.get(identity)
            if seen is not None and self._bump(seen, now):
                return
            with self._lock:
                self._sequence += 1
                name = f"{meta['name']}.{self._sequence:016x}"
            self._store.create({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": {
                    "apiVersion": obj.get("apiVersion"),
                    "kind": obj.get("kind"),
                    "name": meta["name"],
                    "namespace": namespace,
                    "uid": meta.get("uid"),
                    "resourceVersion": meta.get("resourceVersion"),
                },
                "reason": reason,
                "message": message,
                "type": event_type,
                "source": {"component": component},
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": "",
            })
            with self._lock:
                self._seen[identity] = (namespace, name)
        except ApiError as error:
            LOG.warning("could not record event %s on %s/%s: %s", reason, namespace, meta["name"], error.message)

    def _bump(self, where: tuple[str, str], now: str) -> bool:
        """Raise the count of a recorded event; False when it is gone (then a new one is written)."""
        namespace, name = where
        event = self._store.get("events", namespace, name)
        if event is None:
            return False
        event["count"] = int(event.get("count") or 1) + 1
        event["lastTimestamp"] = now
        self._store.update(event)
        return True
