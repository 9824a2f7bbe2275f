"""Rollout evaluation as kubectl rollout status judges it, the restart patch, and the polling loop."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.waves import Workload
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import KubeApiError, RequestInfo
from ansible_collections.meshops.istio.plugins.module_utils.k8s.rollout import (
    restart_patch,
    restart_timestamp,
    rollout_state,
    wait_for_rollouts,
)


def deployment(generation=2, observed=2, replicas=3, updated=3, current=3, available=3, deadline=False, name="web"):
    status = {"observedGeneration": observed, "updatedReplicas": updated, "replicas": current, "availableReplicas": available}
    if deadline:
        status["conditions"] = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": "shop", "generation": generation},
            "spec": {"replicas": replicas}, "status": status}


def statefulset(generation=2, observed=2, replicas=2, ready=2, updated=2, current_rev="r1", update_rev="r1", strategy=None):
    return {"kind": "StatefulSet", "metadata": {"name": "db", "generation": generation},
            "spec": {"replicas": replicas, "updateStrategy": strategy or {"type": "RollingUpdate"}},
            "status": {"observedGeneration": observed, "readyReplicas": ready, "updatedReplicas": updated, "currentReplicas": ready,
                       "currentRevision": current_rev, "updateRevision": update_rev}}


def daemonset(generation=2, observed=2, desired=3, updated=3, available=3, strategy="RollingUpdate"):
    return {"kind": "DaemonSet", "metadata": {"name": "agent", "generation": generation},
            "spec": {"updateStrategy": {"type": strategy}},
            "status": {"observedGeneration": observed, "desiredNumberScheduled": desired, "updatedNumberScheduled": updated,
                       "numberAvailable": available}}


@pytest.mark.parametrize("obj, done, failed, message", [
    (deployment(), True, False, 'deployment "web" successfully rolled out'),
    (deployment(generation=3), False, False, "Waiting for deployment spec update to be observed..."),
    (deployment(deadline=True, updated=1), False, True, 'deployment "web" exceeded its progress deadline'),
    (deployment(updated=1), False, False, 'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...'),
    (deployment(current=4), False, False, 'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...'),
    (deployment(available=2), False, False, 'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...'),
    (deployment(replicas=0, updated=0, current=0, available=0), True, False, 'deployment "web" successfully rolled out'),
    (statefulset(), True, False, "statefulset rolling update complete 2 pods at revision r1..."),
    (statefulset(observed=0, generation=1), False, False, "Waiting for statefulset spec update to be observed..."),
    (statefulset(ready=1), False, False, "Waiting for 1 pods to be ready..."),
    (statefulset(update_rev="r2", updated=1), False, False, "waiting for statefulset rolling update to complete 1 pods at revision r2..."),
    (statefulset(strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, updated=1), False, False,
     "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."),
    (statefulset(strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}), True, False,
     "partitioned roll out complete: 2 new pods have been updated..."),
    (statefulset(strategy={"type": "OnDelete"}, ready=0), True, False, "rollout status is only available for RollingUpdate strategy type"),
    (daemonset(), True, False, 'daemon set "agent" successfully rolled out'),
    (daemonset(generation=3), False, False, "Waiting for daemon set spec update to be observed..."),
    (daemonset(updated=1), False, False, 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...'),
    (daemonset(available=2), False, False, 'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...'),
])
def test_rollout_state_like_kubectl(obj, done, failed, message):
    state = rollout_state(obj)
    assert (state.done, state.failed, state.message) == (done, failed, message)


def test_other_kinds_are_refused():
    with pytest.raises(ValueError, match="cannot evaluate the rollout of a Job"):
        rollout_state({"kind": "Job"})


def test_restart_patch_is_kubectls():
    stamp = restart_timestamp(datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2))))
    assert stamp == "2026-03-04T03:06:07Z"
    assert restart_patch(stamp) == {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}


class ScriptedApi:
    """Answers GET/LIST from a script of states per workload name; records what was asked."""

    def __init__(self, script: dict) -> None:
        self.script = {name: list(states) for name, states in script.items()}
        self.calls = []

    def _next(self, name):
        states = self.script[name]
        obj = states.pop(0) if len(states) > 1 else states[0]
        if obj is None:
            raise KubeApiError("not found", 404, "NotFound", RequestInfo("GET", "/", "h", "get", "apps", "deployments", "shop", name, None), None)
        return dict(obj)

    def get(self, path):
        self.calls.append(("GET", path))
        return self._next(path.rsplit("/", 1)[1])

    def list(self, path):
        self.calls.append(("LIST", path))
        return [dict(self._next(name), metadata={"name": name}) for name in self.script]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_waits_until_complete_with_one_get_per_lone_workload():
    api = ScriptedApi({"web": [deployment(generation=3), deployment(updated=1), deployment()]})
    clock = Clock()
    result = wait_for_rollouts(api, [Workload("shop", "Deployment", "web")], timeout=60, poll_interval=2, sleep=clock.sleep, clock=clock)
    assert result.ok and result.polls == 3 and clock.now == 4
    assert api.calls == [("GET", "/apis/apps/v1/namespaces/shop/deployments/web")] * 3


def test_several_of_one_kind_in_a_namespace_are_listed_once_per_poll():
    api = ScriptedApi({"a": [deployment(updated=1), deployment()], "b": [deployment()]})
    clock = Clock()
    workloads = [Workload("shop", "Deployment", "a"), Workload("shop", "Deployment", "b")]
    result = wait_for_rollouts(api, workloads, timeout=60, poll_interval=1, sleep=clock.sleep, clock=clock)
    assert result.ok
    assert api.calls == [("LIST", "/apis/apps/v1/namespaces/shop/deployments"), ("GET", "/apis/apps/v1/namespaces/shop/deployments/a")]


def test_stops_at_the_first_failure_and_times_out():
    api = ScriptedApi({"a": [deployment(updated=1, deadline=True)], "b": [deployment(updated=1)]})
    clock = Clock()
    workloads = [Workload("shop", "Deployment", "a"), Workload("shop", "Deployment", "b")]
    result = wait_for_rollouts(api, workloads, timeout=60, poll_interval=1, sleep=clock.sleep, clock=clock)
    assert result.status == {workloads[0]: "failed", workloads[1]: "unfinished"} and clock.now == 0

    api = ScriptedApi({"b": [deployment(updated=1)]})
    result = wait_for_rollouts(api, workloads[1:], timeout=5, poll_interval=2, sleep=clock.sleep, clock=clock)
    assert result.status == {workloads[1]: "timed_out"} and result.polls == 4
    assert result.messages[workloads[1]].startswith("timed out after 5s: Waiting for deployment \"web\" rollout to finish")


def test_a_workload_deleted_while_waiting_fails():
    api = ScriptedApi({"web": [None]})
    clock = Clock()
    result = wait_for_rollouts(api, [Workload("shop", "Deployment", "web")], timeout=5, poll_interval=1, sleep=clock.sleep, clock=clock)
    assert list(result.status.values()) == ["failed"]
    assert list(result.messages.values()) == ["shop/Deployment/web was deleted while rolling out"]
