"""ControllerManager: one background thread that runs every controller from a work queue and a timer heap."""

from __future__ import annotations

import collections
import heapq
import logging
import threading
import time

from ..errors import ApiError
from .cache import ObjectCache
from .daemonset import DaemonSetController
from .defaults import apply_defaults
from .deployment import DeploymentController
from .events import EventRecorder
from .job import JobController
from .kubelet import Kubelet
from .podtemplate import controller_ref
from .replicaset import ReplicaSetController
from .retry import RetryLater
from .statefulset import StatefulSetController

LOG = logging.getLogger(__name__)

# Resource keys the controllers read, and the owner kinds whose children they manage.
WATCHED_KEYS = ("apps/deployments", "apps/replicasets", "apps/statefulsets", "apps/daemonsets", "apps/controllerrevisions",
                "batch/jobs", "pods")
OWNER_KEYS = {
    "Deployment": "apps/deployments",
    "ReplicaSet": "apps/replicasets",
    "StatefulSet": "apps/statefulsets",
    "DaemonSet": "apps/daemonsets",
    "Job": "batch/jobs",
}
# Retry delays after a failed reconcile: doubling from the first to the last. The first retries keep ``settle``
# waiting (a transient refusal); later ones do not, so an object that keeps failing cannot wedge it.
BACKOFF_FIRST = 0.01
BACKOFF_MAX = 0.5
SETTLE_RETRIES = 6
# How often the kubelet looks again at readiness that depends on run-time settings (broken revisions).
PROBE_INTERVAL = 0.05


Item = tuple[str, str, str]


class ControllerManager:
    """Runs the Deployment, ReplicaSet, StatefulSet, DaemonSet and Job controllers and the kubelet.

    Store events feed a cache and a de-duplicated FIFO of (resource key, namespace, name); timers feed the same
    queue when they are due. Everything is written through the store, so admission hooks see every pod.
    """

    def __init__(self, store, settings) -> None:
        self.store = store
        self.settings = settings
        self.cache = ObjectCache(WATCHED_KEYS)
        self.events = EventRecorder(store)
        self._cond = threading.Condition()
        self._queue: collections.deque[Item] = collections.deque()
        self._queued: set[Item] = set()
        self._busy = False
        self._timers: list[tuple[float, int, Item]] = []
        self._scheduled: dict[Item, tuple[float, bool]] = {}
        self._counted_timers = 0
        self._sequence = 0
        self._failures: dict[Item, int] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.kubelet = Kubelet(self)
        self._controllers = {
            "apps/deployments": DeploymentController(self),
            "apps/replicasets": ReplicaSetController(self),
            "apps/statefulsets": StatefulSetController(self),
            "apps/daemonsets": DaemonSetController(self),
            "batch/jobs": JobController(self),
            "pods": self.kubelet,
        }
        store.add_admission_hook(apply_defaults)
        store.subscribe(self._on_event)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Read every watched object once, queue them all, and start the worker thread."""
        if self._thread is not None:
            return
        for key in WATCHED_KEYS:
            items, _unused = self.store.list(key)
            for obj in items:
                self._on_event("ADDED", key, obj)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sim-controller-manager", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker thread (queued work is kept for a later ``start``)."""
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        thread.join()
        self._thread = None

    def settle(self, timeout: float) -> bool:
        """Wait until no work is queued, running or waiting on a timer; False if ``timeout`` seconds pass first.

        Pods waiting for the rollout delay and the first retries of a failed reconcile count as pending work;
        rollouts stuck on pods that never become Ready, progress-deadline checks, and objects that keep failing
        (e.g. pod creation refused by an admission webhook) do not.
        """
        with self._cond:
            return self._cond.wait_for(self._idle, timeout)

    def _idle(self) -> bool:
        return not self._queue and not self._busy and self._counted_timers == 0

    def reset(self) -> None:
        """Forget every cached object and all queued work (after ``Store.reset``, which sends no events)."""
        with self._cond:
            self.cache = ObjectCache(WATCHED_KEYS)
            self._queue.clear()
            self._queued.clear()
            self._timers.clear()
            self._scheduled.clear()
            self._counted_timers = 0
            self._failures.clear()
            self.kubelet = Kubelet(self)
            self._controllers["pods"] = self.kubelet
            self._cond.notify_all()

    # ----------------------------------------------------------------- writes (the cache sees them at once)

    def create(self, obj: dict) -> dict:
        """Create through the store (admission runs) and record the result in the cache."""
        created = self.store.create(obj)
        self._observe("ADDED", created)
        return created

    def update(self, obj: dict, *, subresource: str | None = None) -> dict:
        """Update through the store (``subresource="status"`` for status) and record the result in the cache."""
        updated = self.store.update(obj, subresource=subresource)
        self._observe("MODIFIED", updated)
        return updated

    def delete(self, key: str, namespace: str, name: str) -> None:
        """Delete through the store (owned objects go too); a missing object is not an error."""
        try:
            deleted = self.store.delete(key, namespace, name)
        except ApiError as error:
            if error.code != 404:
                raise
            return
        if not (deleted.get("metadata") or {}).get("deletionTimestamp"):
            self._observe("DELETED", deleted)

    def _observe(self, event_type: str, obj: dict) -> None:
        # Store events may be delivered later by another writer's thread; the cache must not lag our own writes.
        key = self.store.registry.key_for(obj["apiVersion"], obj["kind"])
        if self.cache.watches(key):
            self.cache.apply(event_type, key, obj)

    # ----------------------------------------------------------------- queue and timers

    def enqueue(self, key: str, namespace: str, name: str) -> None:
        """Queue one object for its controller (no-op when it is already queued)."""
        with self._cond:
            self._push((key, namespace or "", name))

    def enqueue_after(self, delay: float, key: str, namespace: str, name: str, *, counted: bool = True) -> None:
        """Queue one object after ``delay`` seconds; ``counted`` timers keep ``settle`` waiting."""
        item = (key, namespace or "", name)
        due = time.monotonic() + max(delay, 0.0)
        with self._cond:
            existing = self._scheduled.get(item)
            if existing is not None and existing[0] <= due:
                if counted and not existing[1]:
                    self._scheduled[item] = (existing[0], True)
                    self._counted_timers += 1
                return
            if existing is not None and existing[1]:
                self._counted_timers -= 1
            self._scheduled[item] = (due, counted)
            self._counted_timers += 1 if counted else 0
            self._sequence += 1
            heapq.heappush(self._timers, (due, self._sequence, item))
            self._cond.notify_all()

    def _push(self, item: Item) -> None:
        if item not in self._queued:
            self._queued.add(item)
            self._queue.append(item)
            self._cond.notify_all()

    def _fire_due_timers(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            due, _unused, item = heapq.heappop(self._timers)
            scheduled = self._scheduled.get(item)
            if scheduled is None or scheduled[0] != due:
                continue
            del self._scheduled[item]
            if scheduled[1]:
                self._counted_timers -= 1
            self._push(item)

    def _on_event(self, event_type: str, key: str, obj: dict) -> None:
        if not self.cache.watches(key) or not self.cache.apply(event_type, key, obj):
            return
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or ""
        with self._cond:
            if key in self._controllers:
                self._push((key, namespace, meta.get("name") or ""))
            ref = controller_ref(obj)
            if ref is not None and ref.get("kind") in OWNER_KEYS:
                self._push((OWNER_KEYS[ref["kind"]], namespace, ref.get("name") or ""))

    # ----------------------------------------------------------------- worker

    def _run(self) -> None:
        next_probe = 0.0
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    now = time.monotonic()
                    self._fire_due_timers(now)
                    if now >= next_probe:
                        break
                    if self._queue:
                        break
                    wait = next_probe - now
                    if self._timers:
                        wait = min(wait, self._timers[0][0] - now)
                    self._cond.wait(max(wait, 0.0))
                item = self._queue.popleft() if self._queue else None
                if item is not None:
                    self._queued.discard(item)
                    self._busy = True
            if now >= next_probe:
                next_probe = now + PROBE_INTERVAL
                self.kubelet.probe()
            if item is not None:
                self._process(item)
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _process(self, item: Item) -> None:
        key, namespace, name = item
        try:
            self._controllers[key].reconcile(namespace, name)
        except RetryLater:
            self._retry(item)
            return
        except ApiError as error:
            if error.code == 409:
                self.enqueue(*item)
                return
            LOG.warning("reconciling %s %s/%s failed: %s; retrying", key, namespace, name, error.message)
            self._retry(item)
            return
        except Exception:  # pylint: disable=broad-except  # a controller bug must not stop the other controllers
            LOG.exception("reconciling %s %s/%s raised; retrying", key, namespace, name)
            self._retry(item)
            return
        self._failures.pop(item, None)

    def _retry(self, item: Item) -> None:
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        self.enqueue_after(min(BACKOFF_FIRST * (2 ** failures), BACKOFF_MAX), *item, counted=failures < SETTLE_RETRIES)
