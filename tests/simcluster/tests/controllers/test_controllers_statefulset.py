"""StatefulSet controller: ordered pods, ControllerRevisions, rolling updates from the top ordinal, OnDelete."""

from __future__ import annotations

from tests.simcluster.tests.controllers.helpers import EventLog, is_ready, restart, statefulset

STS = "apps/statefulsets"
REVISIONS = "apps/controllerrevisions"


def revision_label(pod: dict) -> str:
    """The pod's controller-revision-hash label."""
    return pod["metadata"]["labels"]["controller-revision-hash"]


def test_ordered_ready_creates_each_pod_after_the_previous_is_ready(slow_inproc):
    sim = slow_inproc
    log = EventLog(sim.store)
    sim.store.create(statefulset("db", replicas=3))
    sim.settle()

    created = []
    for event_type, key, obj, pods in log.replay():
        if key == "pods" and event_type == "ADDED":
            created.append(obj["metadata"]["name"])
            earlier = [f"db-{ordinal}" for ordinal in range(int(obj["metadata"]["name"].rsplit("-", 1)[1]))]
            assert all(is_ready(pods[name]) for name in earlier), f"{obj['metadata']['name']} created before its predecessors were Ready"
    assert created == ["db-0", "db-1", "db-2"]

    sts = sim.get(STS, "db")
    [revision] = sim.items(REVISIONS)
    assert revision["metadata"]["name"].startswith("db-") and revision["revision"] == 1
    assert revision["metadata"]["ownerReferences"][0]["name"] == "db"
    assert revision["data"]["spec"]["template"]["$patch"] == "replace"
    status = sts["status"]
    assert status == {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3, "updatedReplicas": 3,
                      "availableReplicas": 3, "currentRevision": revision["metadata"]["name"],
                      "updateRevision": revision["metadata"]["name"], "collisionCount": 0}
    pod = sim.get("pods", "db-1")
    assert pod["metadata"]["labels"] == {"app": "db", "controller-revision-hash": revision["metadata"]["name"],
                                         "statefulset.kubernetes.io/pod-name": "db-1", "apps.kubernetes.io/pod-index": "1"}
    assert pod["spec"]["hostname"] == "db-1" and pod["spec"]["subdomain"] == "db"


def test_parallel_policy_creates_all_pods_at_once(slow_inproc):
    sim = slow_inproc
    log = EventLog(sim.store)
    sim.store.create(statefulset("db", replicas=3, podManagementPolicy="Parallel"))
    sim.settle()
    ready_when_third_created = None
    for event_type, key, obj, pods in log.replay():
        if key == "pods" and event_type == "ADDED" and obj["metadata"]["name"] == "db-2":
            ready_when_third_created = [name for name, pod in pods.items() if is_ready(pod)]
    assert ready_when_third_created == []
    assert sim.get(STS, "db")["status"]["readyReplicas"] == 3


def test_rolling_update_replaces_pods_from_the_highest_ordinal(slow_inproc):
    sim = slow_inproc
    sim.store.create(statefulset("db", replicas=3))
    sim.settle()
    old_revision = sim.get(STS, "db")["status"]["currentRevision"]
    log = EventLog(sim.store)
    sim.update(STS, "db", restart)
    sim.settle()

    deleted = [obj["metadata"]["name"] for event_type, obj in log.of("pods") if event_type == "DELETED"]
    assert deleted == ["db-2", "db-1", "db-0"]
    for event_type, key, obj, pods in log.replay():
        if key == "pods" and event_type == "DELETED":
            others = [pod for name, pod in pods.items()]
            assert all(is_ready(pod) for pod in others), f"{obj['metadata']['name']} deleted while another pod was not Ready"
    status = sim.get(STS, "db")["status"]
    assert status["currentRevision"] == status["updateRevision"] != old_revision
    assert status["updatedReplicas"] == status["currentReplicas"] == 3
    assert sorted(cr["revision"] for cr in sim.items(REVISIONS)) == [1, 2]
    assert {revision_label(pod) for pod in sim.items("pods")} == {status["updateRevision"]}


def test_partition_keeps_lower_ordinals_on_the_current_revision(inproc):
    sim = inproc
    sim.store.create(statefulset("db", replicas=3, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}))
    sim.settle()
    old_revision = sim.get(STS, "db")["status"]["currentRevision"]
    sim.update(STS, "db", restart)
    sim.settle()
    status = sim.get(STS, "db")["status"]
    assert status["currentRevision"] == old_revision != status["updateRevision"]
    assert status["updatedReplicas"] == 1 and status["currentReplicas"] == 2
    assert {pod["metadata"]["name"]: revision_label(pod) == status["updateRevision"] for pod in sim.items("pods")} == {
        "db-0": False, "db-1": False, "db-2": True}


def test_on_delete_updates_only_deleted_pods(inproc):
    sim = inproc
    sim.store.create(statefulset("db", replicas=2, updateStrategy={"type": "OnDelete"}))
    sim.settle()
    before = {pod["metadata"]["name"]: pod["metadata"]["uid"] for pod in sim.items("pods")}
    sim.update(STS, "db", restart)
    sim.settle()
    assert {pod["metadata"]["name"]: pod["metadata"]["uid"] for pod in sim.items("pods")} == before

    sim.store.delete("pods", "demo", "db-1")
    sim.settle()
    status = sim.get(STS, "db")["status"]
    labels = {pod["metadata"]["name"]: revision_label(pod) for pod in sim.items("pods")}
    assert labels == {"db-0": status["currentRevision"], "db-1": status["updateRevision"]}
    assert status["currentRevision"] != status["updateRevision"] and status["updatedReplicas"] == 1


def test_scale_down_removes_the_highest_ordinals_first(slow_inproc):
    sim = slow_inproc
    sim.store.create(statefulset("db", replicas=4))
    sim.settle()
    log = EventLog(sim.store)
    sim.update(STS, "db", lambda s: s["spec"].update(replicas=1))
    sim.settle()
    assert [obj["metadata"]["name"] for event_type, obj in log.of("pods") if event_type == "DELETED"] == ["db-3", "db-2", "db-1"]
    assert sim.get(STS, "db")["status"]["replicas"] == 1
