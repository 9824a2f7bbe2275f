"""Deployment controller: ReplicaSets, rolling and recreate rollouts, status and conditions as kubectl reads them."""

from __future__ import annotations

import pytest

from tests.simcluster.controllers.podtemplate import SAFE_ALPHABET
from tests.simcluster.errors import ApiError

from tests.simcluster.tests.controllers.helpers import EventLog, condition, deployment, injected, is_ready, restart, wait_until

RS = "apps/replicasets"
DEPLOY = "apps/deployments"


def owned_replicasets(sim, name: str) -> list[dict]:
    """The ReplicaSets of one Deployment, oldest revision first."""
    uid = sim.get(DEPLOY, name)["metadata"]["uid"]
    found = [rs for rs in sim.items(RS) if rs["metadata"]["ownerReferences"][0]["uid"] == uid]
    return sorted(found, key=lambda rs: int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]))


def test_deployment_creates_replicaset_with_ready_pods(inproc):
    sim = inproc
    sim.store.create(deployment("web", replicas=3))
    sim.settle()

    deploy = sim.get(DEPLOY, "web")
    assert deploy["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert deploy["spec"]["revisionHistoryLimit"] == 10 and deploy["spec"]["progressDeadlineSeconds"] == 600
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    [rs] = owned_replicasets(sim, "web")
    template_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{template_hash}"
    assert 6 <= len(template_hash) <= 10 and set(template_hash) <= set(SAFE_ALPHABET)
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", "pod-template-hash": template_hash}
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": template_hash}
    assert rs["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                  "uid": deploy["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    assert rs["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": "3",
                                             "deployment.kubernetes.io/max-replicas": "4"}
    assert rs["status"] == {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3, "availableReplicas": 3, "observedGeneration": 1}

    pods = sim.pods_of(rs)
    assert len(pods) == 3
    for pod in pods:
        assert pod["metadata"]["name"].startswith(f"web-{template_hash}-") and len(pod["metadata"]["name"]) == len(rs["metadata"]["name"]) + 6
        assert pod["status"]["phase"] == "Running" and is_ready(pod)
        assert pod["spec"]["nodeName"] in sim.settings.nodes

    status = deploy["status"]
    assert {k: status[k] for k in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas")} == {
        "observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}
    assert "unavailableReplicas" not in status
    available, progressing = condition(deploy, "Available"), condition(deploy, "Progressing")
    assert (available["status"], available["reason"]) == ("True", "MinimumReplicasAvailable")
    assert (progressing["status"], progressing["reason"]) == ("True", "NewReplicaSetAvailable")
    assert progressing["message"] == f'ReplicaSet "web-{template_hash}" has successfully progressed.'
    scaled = [e for e in sim.items("events") if e["reason"] == "ScalingReplicaSet"]
    assert [e["message"] for e in scaled] == [f"Scaled up replica set web-{template_hash} from 0 to 3"]


def test_restart_rolls_to_a_new_replicaset(inproc):
    sim = inproc
    sim.store.create(deployment("web", replicas=3))
    sim.settle()
    [first] = owned_replicasets(sim, "web")
    first_pods = {pod["metadata"]["name"] for pod in sim.pods_of(first)}

    sim.update(DEPLOY, "web", restart)
    sim.settle()

    old, new = owned_replicasets(sim, "web")
    assert old["metadata"]["uid"] == first["metadata"]["uid"]
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert new["spec"]["template"]["metadata"]["annotations"] == {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
    assert old["spec"]["replicas"] == 0 and old["status"]["replicas"] == 0
    pods = sim.items("pods")
    assert len(pods) == 3 and not first_pods & {pod["metadata"]["name"] for pod in pods}
    assert all(pod["metadata"]["labels"]["pod-template-hash"] == new["metadata"]["labels"]["pod-template-hash"] for pod in pods)
    deploy = sim.get(DEPLOY, "web")
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert deploy["metadata"]["generation"] == 2 and deploy["status"]["observedGeneration"] == 2
    assert deploy["status"]["updatedReplicas"] == 3 and deploy["status"]["availableReplicas"] == 3
    assert condition(deploy, "Progressing")["reason"] == "NewReplicaSetAvailable"


def test_rollback_to_an_old_template_reuses_its_replicaset(inproc):
    sim = inproc
    sim.store.create(deployment("web", replicas=2))
    sim.settle()
    original = sim.get(DEPLOY, "web")["spec"]["template"]
    sim.update(DEPLOY, "web", restart)
    sim.settle()

    sim.update(DEPLOY, "web", lambda d: d["spec"].update(template=original))
    sim.settle()

    replicasets = owned_replicasets(sim, "web")
    assert len(replicasets) == 2
    newest = replicasets[-1]
    assert newest["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert "annotations" not in newest["spec"]["template"]["metadata"]
    assert newest["spec"]["replicas"] == 2 and replicasets[0]["spec"]["replicas"] == 0


@pytest.mark.parametrize("surge, unavailable, replicas", [(1, 0, 4), (0, 1, 4), ("25%", "25%", 4), ("50%", "0%", 3)])
def test_rolling_update_stays_within_surge_and_unavailable(slow_inproc, surge, unavailable, replicas):
    sim = slow_inproc
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    sim.store.create(deployment("web", replicas=replicas, strategy=strategy))
    sim.settle()
    log = EventLog(sim.store)
    sim.update(DEPLOY, "web", restart)
    sim.settle()

    def resolve(value, round_up):
        if isinstance(value, int):
            return value
        fraction = int(value[:-1]) * replicas / 100
        return int(-(-fraction // 1)) if round_up else int(fraction // 1)

    max_surge, max_unavailable = resolve(surge, True), resolve(unavailable, False)
    scaled = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in log.initial_replicasets}
    seen_both = False
    for event_type, key, obj, pods in log.replay():
        if key == RS and event_type != "DELETED":
            scaled[obj["metadata"]["name"]] = obj["spec"]["replicas"]
        assert sum(scaled.values()) <= replicas + max_surge
        ready = [pod for pod in pods.values() if is_ready(pod)]
        assert len(ready) >= replicas - max_unavailable
        hashes = {pod["metadata"]["labels"]["pod-template-hash"] for pod in ready}
        seen_both = seen_both or len(hashes) == 2
    assert seen_both, "old and new pods were never ready together: this was not a rolling update"
    deploy = sim.get(DEPLOY, "web")
    assert deploy["status"]["updatedReplicas"] == replicas == deploy["status"]["availableReplicas"]


def test_recreate_stops_old_pods_before_new_ones_start(slow_inproc):
    sim = slow_inproc
    sim.store.create(deployment("web", replicas=3, strategy={"type": "Recreate"}))
    sim.settle()
    assert "rollingUpdate" not in sim.get(DEPLOY, "web")["spec"]["strategy"]
    log = EventLog(sim.store)
    sim.update(DEPLOY, "web", restart)
    sim.settle()

    for _unused, _unused, _unused, pods in log.replay():
        assert len({pod["metadata"]["labels"]["pod-template-hash"] for pod in pods.values()}) <= 1
    old, new = owned_replicasets(sim, "web")
    assert old["spec"]["replicas"] == 0 and new["status"]["readyReplicas"] == 3


def test_broken_revision_stalls_until_the_progress_deadline(inproc):
    sim = inproc
    sim.settings.broken_revisions.add("canary")
    sim.store.create(deployment("web", replicas=4, progressDeadlineSeconds=1))
    sim.settle()

    def inject(obj):
        fields = injected("canary")
        obj["spec"]["template"]["metadata"]["annotations"] = fields["annotations"]
        obj["spec"]["template"]["spec"]["containers"] = fields["containers"]

    sim.update(DEPLOY, "web", inject)
    sim.settle()
    deploy = wait_until(lambda: (d := sim.get(DEPLOY, "web")) and condition(d, "Progressing")["reason"] == "ProgressDeadlineExceeded" and d,
                        what="ProgressDeadlineExceeded")
    progressing = condition(deploy, "Progressing")
    old, new = owned_replicasets(sim, "web")
    assert progressing["status"] == "False"
    assert progressing["message"] == f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.'
    assert condition(deploy, "Available")["status"] == "True"
    assert deploy["status"]["updatedReplicas"] == 2 and deploy["status"]["availableReplicas"] == 3
    assert old["spec"]["replicas"] == 3
    for pod in sim.pods_of(new):
        assert pod["status"]["phase"] == "Running" and not is_ready(pod)
        ready = condition(pod, "Ready")
        assert (ready["reason"], ready["message"]) == ("ContainersNotReady", "containers with unready status: [istio-proxy]")
        assert {s["name"]: s["ready"] for s in pod["status"]["containerStatuses"]} == {"app": True, "istio-proxy": False}

    sim.settings.broken_revisions.discard("canary")
    wait_until(lambda: condition(sim.get(DEPLOY, "web"), "Progressing")["reason"] == "NewReplicaSetAvailable", what="recovery")
    sim.settle()
    assert sim.get(DEPLOY, "web")["status"]["availableReplicas"] == 4 and len(sim.pods_of(new)) == 4


def test_paused_deployment_does_not_roll_until_resumed(inproc):
    sim = inproc
    sim.store.create(deployment("web", replicas=2))
    sim.settle()

    def pause_and_restart(obj):
        obj["spec"]["paused"] = True
        restart(obj)

    sim.update(DEPLOY, "web", pause_and_restart)
    sim.settle()
    assert len(owned_replicasets(sim, "web")) == 1
    progressing = condition(sim.get(DEPLOY, "web"), "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("Unknown", "DeploymentPaused")

    sim.update(DEPLOY, "web", lambda d: d["spec"].update(paused=False))
    sim.settle()
    assert [rs["spec"]["replicas"] for rs in owned_replicasets(sim, "web")] == [0, 2]
    assert condition(sim.get(DEPLOY, "web"), "Progressing")["reason"] == "NewReplicaSetAvailable"


def test_revision_history_limit_deletes_the_oldest_replicasets(inproc):
    sim = inproc
    sim.store.create(deployment("web", replicas=1, revisionHistoryLimit=1))
    sim.settle()
    for stamp in ("2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z", "2026-01-01T00:00:03Z"):
        sim.update(DEPLOY, "web", lambda d, s=stamp: restart(d, s))
        sim.settle()
    revisions = [rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] for rs in owned_replicasets(sim, "web")]
    assert revisions == ["3", "4"]


def test_scaling_changes_the_replicaset(inproc):
    sim = inproc
    sim.store.create(deployment("web", replicas=2))
    sim.settle()
    sim.update(DEPLOY, "web", lambda d: d["spec"].update(replicas=5))
    sim.settle()
    [rs] = owned_replicasets(sim, "web")
    assert rs["spec"]["replicas"] == 5 and len(sim.pods_of(rs)) == 5
    sim.update(DEPLOY, "web", lambda d: d["spec"].update(replicas=1))
    sim.settle()
    assert len(sim.items("pods")) == 1 and sim.get(DEPLOY, "web")["status"]["replicas"] == 1


def test_deleting_a_deployment_removes_its_replicasets_and_pods(inproc):
    sim = inproc
    sim.store.create(deployment("web", replicas=3))
    sim.store.create(deployment("other", replicas=1))
    sim.settle()
    sim.store.delete(DEPLOY, "demo", "web")
    sim.settle()
    assert [rs["metadata"]["name"].split("-")[0] for rs in sim.items(RS)] == ["other"]
    assert [pod["metadata"]["labels"]["app"] for pod in sim.items("pods")] == ["other"]


def test_refused_pod_creation_is_reported_and_retried(inproc):
    sim = inproc
    refusing = {"on": True}

    def webhook(operation, key, obj, old, dry_run):  # pylint: disable=unused-argument
        if key == "pods" and operation == "CREATE" and refusing["on"]:
            raise ApiError(500, "InternalError", 'Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": '
                                                 "no endpoints available for service \"istiod-canary\"")
        return obj

    sim.store.add_admission_hook(webhook)
    sim.store.create(deployment("web", replicas=2))
    failed = wait_until(lambda: [e for e in sim.items("events") if e["reason"] == "FailedCreate"], what="FailedCreate event")
    [rs] = owned_replicasets(sim, "web")
    assert failed[0]["type"] == "Warning" and failed[0]["source"] == {"component": "replicaset-controller"}
    assert failed[0]["involvedObject"]["kind"] == "ReplicaSet" and failed[0]["involvedObject"]["name"] == rs["metadata"]["name"]
    assert failed[0]["message"].startswith('Error creating: Internal error occurred: failed calling webhook "namespace.sidecar-injector')
    rs = wait_until(lambda: (r := sim.get(RS, rs["metadata"]["name"])) and condition(r, "ReplicaFailure") and r, what="ReplicaFailure")
    assert (condition(rs, "ReplicaFailure")["status"], condition(rs, "ReplicaFailure")["reason"]) == ("True", "FailedCreate")
    wait_until(lambda: condition(sim.get(DEPLOY, "web"), "ReplicaFailure"), what="ReplicaFailure on the Deployment")
    wait_until(lambda: (e := [e for e in sim.items("events") if e["reason"] == "FailedCreate"]) and e[0]["count"] > 1, what="retries")
    assert sim.items("pods") == []

    refusing["on"] = False
    wait_until(lambda: sim.get(DEPLOY, "web").get("status", {}).get("availableReplicas") == 2, what="pods after the hook allows")
    sim.settle()
    assert condition(sim.get(RS, rs["metadata"]["name"]), "ReplicaFailure") is None
    assert condition(sim.get(DEPLOY, "web"), "ReplicaFailure") is None
