"""Watch streams: newline-delimited JSON events (``ADDED``, ``MODIFIED``, ``DELETED``, ``BOOKMARK``, ``ERROR``).

A watch without ``resourceVersion`` (or ``"0"``), or with ``sendInitialEvents=true``, starts with a
synthetic ``ADDED`` event per existing object; with ``sendInitialEvents=true`` and
``allowWatchBookmarks=true`` a ``BOOKMARK`` annotated ``k8s.io/initial-events-end`` follows them (watch-list).
Otherwise the stream replays the changes after the given ``resourceVersion`` (410 Expired when that is older
than the store's history, sent as an ``ERROR`` event like the real server does). With
``allowWatchBookmarks=true`` a ``BOOKMARK`` is also sent after each idle ``BOOKMARK_INTERVAL``.
"""
from __future__ import annotations

import json
import time

from . import api_table, errors
from .api_table import wants_table

DEFAULT_TIMEOUT = 1800.0
BOOKMARK_INTERVAL = 30.0
IDLE_TICK = 0.5


def _encode(event_type: str, obj: dict) -> bytes:
    return (json.dumps({"type": event_type, "object": obj}, separators=(",", ":")) + "\n").encode()


def _rv_of(obj: dict) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


def watch_stream(store, request, info, rt, outward):  # pylint: disable=too-many-locals
    """Open a watch (errors such as a bad selector raise here, before any answer) and return its event stream."""
    query = request.query
    timeout = float(query.get("timeoutSeconds") or DEFAULT_TIMEOUT)
    resource_version = query.get("resourceVersion") or None
    send_initial = query.get("sendInitialEvents") == "true"
    bookmarks = query.get("allowWatchBookmarks") == "true"
    if send_initial and not bookmarks:
        raise errors.ApiError(422, "Invalid", "sendInitialEvents is forbidden for watch unless allowWatchBookmarks=true",
                              {"causes": [{"reason": "FieldValueForbidden", "field": "allowWatchBookmarks"}]})
    initial = send_initial or resource_version in (None, "0")
    namespace = info.namespace or None
    label, field = query.get("labelSelector"), query.get("fieldSelector")
    if info.name:
        field = f"metadata.name={info.name}" + (f",{field}" if field else "")
    table = wants_table(request)
    include = query.get("includeObject", "Metadata")
    try:
        watch = store.watch(rt.key, namespace, label, field, None if initial else resource_version)
    except errors.ApiError as exc:
        if exc.code != 410:
            raise
        return iter([_encode("ERROR", exc.status())])
    return _events(store, watch, rt, outward, table, include, initial, send_initial and bookmarks, bookmarks, timeout,
                   (namespace, label, field))


def _events(store, watch, rt, outward, table, include, initial, initial_bookmark, bookmarks, timeout,  # pylint: disable=too-many-arguments,too-many-locals
            selection):
    def render(event_type: str, obj: dict) -> bytes:
        obj = outward(rt, obj)
        if table and event_type != "BOOKMARK":
            obj = api_table.table(rt.key, [obj], include, {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
        return _encode(event_type, obj)

    def bookmark(rv: int, initial_end: bool = False) -> bytes:
        meta = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return _encode("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta})

    try:
        floor = 0
        if initial:
            namespace, label, field = selection
            listed = store.list(rt.key, namespace, label, field, copy=False)  # stored objects: only serialized
            floor = int(listed.resource_version)
            for obj in listed.items:
                if table:
                    yield render("ADDED", obj)
                else:
                    yield b'{"type":"ADDED","object":%s}\n' % store.serialized(rt.key, obj, rt.api_version, rt.kind)
            if initial_bookmark:
                yield bookmark(floor, initial_end=True)
        last_rv = floor
        deadline = time.monotonic() + timeout
        last_sent = time.monotonic()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                event = watch.next(timeout=min(IDLE_TICK, remaining))
            except errors.ApiError as exc:
                yield _encode("ERROR", exc.status())
                return
            if event is None:
                if bookmarks and time.monotonic() - last_sent >= BOOKMARK_INTERVAL:
                    last_sent = time.monotonic()
                    yield bookmark(last_rv or int(store.resource_version))
                else:
                    yield None
                continue
            event_type, obj = event
            rv = _rv_of(obj)
            if rv and rv <= floor:
                continue  # already in the initial list
            last_rv = max(last_rv, rv)
            last_sent = time.monotonic()
            yield render(event_type, obj)
    finally:
        watch.close()
