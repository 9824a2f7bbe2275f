"""The simulated scheduler and kubelet: pods get a node, then run and become Ready after the rollout delay."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import time

from ..patch import clone
from .podtemplate import is_terminating, now_rfc3339, set_condition, with_status

ISTIO_STATUS = "sidecar.istio.io/status"
ISTIO_PROXY = "istio-proxy"
POD_NETWORK = int(ipaddress.IPv4Address("10.244.0.0"))


def injected_revision(pod: dict) -> str | None:
    """The revision in a pod's ``sidecar.istio.io/status`` annotation, or None when absent or unreadable."""
    text = ((pod.get("metadata") or {}).get("annotations") or {}).get(ISTIO_STATUS)
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value.get("revision") if isinstance(value, dict) else None


def _sidecars(spec: dict) -> list[dict]:
    """Init containers with ``restartPolicy: Always`` (native sidecars): they run beside the containers."""
    return [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]


def _image_id(image: str) -> str:
    repository = image.split("@", 1)[0]
    last = repository.rsplit("/", 1)
    if ":" in last[-1]:
        repository = repository[: repository.rindex(":")]
    return f"{repository}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _container_id(uid: str, name: str) -> str:
    return "containerd://" + hashlib.sha256(f"{uid}/{name}".encode()).hexdigest()


class Kubelet:
    """Schedules pods over ``settings.nodes`` and moves them Pending -> Running (Ready) or -> Succeeded for jobs.

    A pod injected by a revision in ``settings.broken_revisions`` runs but its ``istio-proxy`` never becomes
    ready; the set is read at every check, and pods are looked at again when it changes.
    """

    key = "pods"

    def __init__(self, manager) -> None:
        self._manager = manager
        self._started_at: dict[str, float] = {}
        self._node_of: dict[tuple[str, str], str] = {}
        self._load: dict[str, int] = {}
        self._revision_of: dict[tuple[str, str], tuple[str, bool]] = {}
        self._by_revision: dict[tuple[str, bool], set[tuple[str, str]]] = {}
        self._addresses = 0

    # ----------------------------------------------------------------- probing

    def probe(self) -> None:
        """Queue the running pods whose revision became broken, or fixed, since their readiness was last set."""
        broken = self._manager.settings.broken_revisions or ()
        for (revision, was_broken), members in list(self._by_revision.items()):
            if (revision in broken) != was_broken:
                for namespace, name in list(members):
                    self._manager.enqueue(self.key, namespace, name)

    def _track_revision(self, ident: tuple[str, str], state: tuple[str, bool] | None) -> None:
        """Remember a running pod's revision and whether it was broken when its readiness was last set."""
        previous = self._revision_of.pop(ident, None)
        if previous is not None:
            members = self._by_revision.get(previous)
            if members is not None:
                members.discard(ident)
                if not members:
                    del self._by_revision[previous]
        if state is not None:
            self._revision_of[ident] = state
            self._by_revision.setdefault(state, set()).add(ident)

    def _forget(self, ident: tuple[str, str], uid: str | None) -> None:
        self._track_revision(ident, None)
        node = self._node_of.pop(ident, None)
        if node is not None:
            self._load[node] = max(self._load.get(node, 1) - 1, 0)
        if uid is not None:
            self._started_at.pop(uid, None)

    # ----------------------------------------------------------------- reconcile

    def reconcile(self, namespace: str, name: str) -> None:
        """Bring one pod one step further: schedule it, start it, make it Ready or Succeeded, or remove it."""
        ident = (namespace, name)
        pod = self._manager.cache.get(self.key, namespace, name)
        if pod is None:
            self._forget(ident, None)
            return
        uid = pod["metadata"].get("uid")
        if is_terminating(pod):
            # The store removes pods at once; one still here waits for its finalizers, and runs no more.
            self._forget(ident, uid)
            return
        if not (pod.get("spec") or {}).get("nodeName"):
            pod = self._schedule(pod)
            if pod is None:
                return
        node = pod["spec"]["nodeName"]
        if ident not in self._node_of:
            self._node_of[ident] = node
            self._load[node] = self._load.get(node, 0) + 1
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            self._track_revision(ident, None)
            return
        delay = float(self._manager.settings.rollout_delay or 0.0)
        now = time.monotonic()
        started = self._started_at.setdefault(uid, now + delay)
        if now < started:
            new_status = self._pending_status(pod)
            self._manager.enqueue_after(started - now, self.key, namespace, name)
        elif pod["spec"].get("restartPolicy", "Always") != "Always":
            if status.get("phase") == "Running" and now >= started + delay:
                new_status = self._succeeded_status(pod)
            else:
                new_status = self._running_status(pod, broken=False)
                if delay:
                    self._manager.enqueue_after(started + delay - now, self.key, namespace, name)
        else:
            revision = injected_revision(pod)
            broken = revision is not None and revision in (self._manager.settings.broken_revisions or ())
            self._track_revision(ident, None if revision is None else (revision, broken))
            new_status = self._running_status(pod, broken=broken)
        if new_status != status:
            self._manager.update(with_status(pod, new_status), subresource="status")

    def _schedule(self, pod: dict) -> dict | None:
        """Bind the pod to the least loaded eligible node; None (and an Unschedulable condition) when none fits."""
        nodes = [node for node in self._manager.settings.nodes if self.fits(pod, node)]
        if not nodes:
            status = clone(pod.get("status") or {})
            total = len(self._manager.settings.nodes)
            status["phase"] = "Pending"
            status["conditions"] = set_condition(status.get("conditions") or [], {
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastProbeTime": None,
                "lastTransitionTime": now_rfc3339(),
                "message": f"0/{total} nodes are available: {total} node(s) didn't match Pod's node affinity/selector.",
            })
            if status != pod.get("status"):
                self._manager.update(with_status(pod, status), subresource="status")
            return None
        node = min(nodes, key=lambda n: self._load.get(n, 0))
        return self._manager.update({**pod, "spec": {**pod["spec"], "nodeName": node}})

    @staticmethod
    def fits(pod: dict, node: str) -> bool:
        """Whether a pod may run on a simulated node (its nodeSelector and required node affinity)."""
        spec = pod.get("spec") or {}
        labels = {"kubernetes.io/hostname": node, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
        for key, value in (spec.get("nodeSelector") or {}).items():
            if labels.get(key) != value:
                return False
        required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                    .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
        terms = required.get("nodeSelectorTerms") or []
        return not terms or any(Kubelet._term_fits(term, node, labels) for term in terms)

    @staticmethod
    def _term_fits(term: dict, node: str, labels: dict) -> bool:
        checks = [(r, node) for r in term.get("matchFields") or [] if r.get("key") == "metadata.name"]
        checks += [(r, labels.get(r.get("key"))) for r in term.get("matchExpressions") or []]
        for requirement, value in checks:
            operator, values = requirement.get("operator"), requirement.get("values") or []
            if operator == "In" and value not in values or operator == "NotIn" and value in values:
                return False
            if operator == "Exists" and value is None or operator == "DoesNotExist" and value is not None:
                return False
        return True

    # ----------------------------------------------------------------- statuses

    def _base_status(self, pod: dict) -> dict:
        status = clone(pod.get("status") or {})
        spec = pod["spec"]
        host_ip = self._host_ip(spec["nodeName"])
        status["hostIP"] = host_ip
        status["hostIPs"] = [{"ip": host_ip}]
        status.setdefault("startTime", now_rfc3339())
        status["conditions"] = set_condition(status.get("conditions") or [], self._condition("PodScheduled", True))
        return status

    def _host_ip(self, node: str) -> str:
        nodes = list(self._manager.settings.nodes)
        index = nodes.index(node) if node in nodes else len(nodes)
        return f"172.18.0.{index + 2}"

    @staticmethod
    def _condition(condition_type: str, ok: bool, reason: str | None = None, message: str | None = None) -> dict:
        condition = {"type": condition_type, "status": "True" if ok else "False", "lastProbeTime": None,
                     "lastTransitionTime": now_rfc3339()}
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        return condition

    def _set_conditions(self, status: dict, conditions: list[dict]) -> None:
        for condition in conditions:
            status["conditions"] = set_condition(status["conditions"], condition)
        order = {"PodReadyToStartContainers": 0, "Initialized": 1, "Ready": 2, "ContainersReady": 3, "PodScheduled": 4}
        status["conditions"].sort(key=lambda c: order.get(c.get("type"), 5))

    def _pending_status(self, pod: dict) -> dict:
        status = self._base_status(pod)
        spec = pod["spec"]
        waiting = [c["name"] for c in _sidecars(spec) + (spec.get("containers") or [])]
        unready = f"containers with unready status: [{' '.join(waiting)}]"
        plain_init = [c["name"] for c in spec.get("initContainers") or [] if c.get("restartPolicy") != "Always"]
        initialized = self._condition("Initialized", True) if not plain_init else self._condition(
            "Initialized", False, "ContainersNotInitialized", f"containers with incomplete status: [{' '.join(plain_init)}]")
        self._set_conditions(status, [
            self._condition("PodReadyToStartContainers", False), initialized,
            self._condition("Ready", False, "ContainersNotReady", unready),
            self._condition("ContainersReady", False, "ContainersNotReady", unready),
        ])
        status["phase"] = "Pending"
        status["containerStatuses"] = [self._waiting(c) for c in spec.get("containers") or []]
        if spec.get("initContainers"):
            status["initContainerStatuses"] = [self._waiting(c) for c in spec["initContainers"]]
        return status

    @staticmethod
    def _waiting(container: dict) -> dict:
        return {"name": container["name"], "image": container.get("image", ""), "imageID": "", "ready": False,
                "started": False, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}, "lastState": {}}

    def _running_status(self, pod: dict, *, broken: bool) -> dict:
        status = self._base_status(pod)
        spec = pod["spec"]
        uid = pod["metadata"].get("uid") or ""
        previous = {s.get("name"): s for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])}
        now = now_rfc3339()
        statuses, init_statuses, unready = [], [], []
        for container in spec.get("initContainers") or []:
            if container.get("restartPolicy") == "Always":
                ready = not (broken and container["name"] == ISTIO_PROXY)
                init_statuses.append(self._running(container, uid, ready, previous, now))
                if not ready:
                    unready.append(container["name"])
            else:
                init_statuses.append(self._completed(container, uid, previous, now, ready=True))
        for container in spec.get("containers") or []:
            ready = not (broken and container["name"] == ISTIO_PROXY)
            statuses.append(self._running(container, uid, ready, previous, now))
            if not ready:
                unready.append(container["name"])
        message = f"containers with unready status: [{' '.join(unready)}]" if unready else None
        reason = "ContainersNotReady" if unready else None
        self._set_conditions(status, [
            self._condition("PodReadyToStartContainers", True), self._condition("Initialized", True),
            self._condition("Ready", not unready, reason, message),
            self._condition("ContainersReady", not unready, reason, message),
        ])
        status["phase"] = "Running"
        status["containerStatuses"] = statuses
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        if "podIP" not in status:
            address = status["hostIP"] if spec.get("hostNetwork") else self._next_pod_ip()
            status["podIP"] = address
            status["podIPs"] = [{"ip": address}]
        return status

    def _next_pod_ip(self) -> str:
        self._addresses += 1
        if self._addresses % 256 in (0, 255):
            self._addresses += 2
        return str(ipaddress.IPv4Address(POD_NETWORK + self._addresses))

    @staticmethod
    def _running(container: dict, uid: str, ready: bool, previous: dict, now: str) -> dict:
        before = previous.get(container["name"]) or {}
        state = before.get("state") if "running" in (before.get("state") or {}) else {"running": {"startedAt": now}}
        image = container.get("image", "")
        return {"name": container["name"], "image": image, "imageID": _image_id(image),
                "containerID": _container_id(uid, container["name"]), "ready": ready, "started": True,
                "restartCount": 0, "state": state, "lastState": {}}

    @staticmethod
    def _completed(container: dict, uid: str, previous: dict, now: str, *, ready: bool) -> dict:
        before = previous.get(container["name"]) or {}
        started = ((before.get("state") or {}).get("running") or {}).get("startedAt", now)
        state = before.get("state") if "terminated" in (before.get("state") or {}) else {
            "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": now,
                           "containerID": _container_id(uid, container["name"])}}
        image = container.get("image", "")
        return {"name": container["name"], "image": image, "imageID": _image_id(image),
                "containerID": _container_id(uid, container["name"]), "ready": ready, "started": False,
                "restartCount": 0, "state": state, "lastState": {}}

    def _succeeded_status(self, pod: dict) -> dict:
        status = self._base_status(pod)
        spec = pod["spec"]
        uid = pod["metadata"].get("uid") or ""
        previous = {s.get("name"): s for s in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])}
        now = now_rfc3339()
        self._set_conditions(status, [
            self._condition("PodReadyToStartContainers", False), self._condition("Initialized", True, "PodCompleted"),
            self._condition("Ready", False, "PodCompleted"), self._condition("ContainersReady", False, "PodCompleted"),
        ])
        status["phase"] = "Succeeded"
        status["containerStatuses"] = [self._completed(c, uid, previous, now, ready=False) for c in spec.get("containers") or []]
        if spec.get("initContainers"):
            status["initContainerStatuses"] = [self._completed(c, uid, previous, now, ready=c.get("restartPolicy") != "Always")
                                               for c in spec["initContainers"]]
        return status
