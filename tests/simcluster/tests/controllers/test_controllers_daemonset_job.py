"""DaemonSet controller (one pod per node, rolling within maxUnavailable) and Job controller (pods run to completion)."""

from __future__ import annotations

from tests.simcluster.tests.controllers.helpers import NAMESPACE, EventLog, condition, daemonset, is_ready, restart, template

DS = "apps/daemonsets"
JOB = "batch/jobs"


def test_daemonset_runs_one_pod_per_node(inproc):
    sim = inproc
    sim.store.create(daemonset("agent"))
    sim.settle()
    pods = sim.items("pods")
    assert sorted(pod["spec"]["nodeName"] for pod in pods) == sorted(sim.settings.nodes)
    [revision] = sim.items("apps/controllerrevisions")
    digest = revision["metadata"]["labels"]["controller-revision-hash"]
    assert revision["metadata"]["name"] == f"agent-{digest}"
    for pod in pods:
        assert pod["metadata"]["name"].startswith("agent-") and len(pod["metadata"]["name"]) == len("agent-") + 5
        assert pod["metadata"]["labels"]["controller-revision-hash"] == digest
        assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [pod["spec"]["nodeName"]]}]}]
        assert is_ready(pod)
    ds = sim.get(DS, "agent")
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert ds["status"] == {"currentNumberScheduled": 3, "numberMisscheduled": 0, "desiredNumberScheduled": 3, "numberReady": 3,
                            "observedGeneration": 1, "updatedNumberScheduled": 3, "numberAvailable": 3}


def test_daemonset_node_selector_limits_the_nodes(inproc):
    sim = inproc
    node = sim.settings.nodes[1]
    body = daemonset("agent")
    body["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": node}
    sim.store.create(body)
    sim.settle()
    assert [pod["spec"]["nodeName"] for pod in sim.items("pods")] == [node]
    assert sim.get(DS, "agent")["status"]["desiredNumberScheduled"] == 1


def test_daemonset_rolling_update_keeps_within_max_unavailable(slow_inproc):
    sim = slow_inproc
    sim.store.create(daemonset("agent"))
    sim.settle()
    log = EventLog(sim.store)
    sim.update(DS, "agent", restart)
    sim.settle()
    nodes = set(sim.settings.nodes)
    for _unused, _unused, _unused, pods in log.replay():
        ready_nodes = {pod["spec"].get("nodeName") for pod in pods.values() if is_ready(pod)}
        assert len(nodes - ready_nodes) <= 1
    ds = sim.get(DS, "agent")
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    assert ds["status"]["updatedNumberScheduled"] == 3 and ds["status"]["numberAvailable"] == 3
    assert len([obj for event_type, obj in log.of("pods") if event_type == "DELETED"]) == 3
    assert sorted(cr["revision"] for cr in sim.items("apps/controllerrevisions")) == [1, 2]


def job(name: str, **spec) -> dict:
    """A Job whose pods run once."""
    body = {"template": template({}, restartPolicy="Never")}
    body.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": body}


def test_job_runs_its_pods_to_completion(slow_inproc):
    sim = slow_inproc
    log = EventLog(sim.store)
    sim.store.create(job("migrate", completions=3, parallelism=2))
    sim.settle()

    most_active = 0
    for _unused, _unused, _unused, pods in log.replay():
        most_active = max(most_active, sum(1 for pod in pods.values() if pod["status"]["phase"] in ("Pending", "Running")))
    assert most_active == 2
    stored = sim.get(JOB, "migrate")
    uid = stored["metadata"]["uid"]
    assert stored["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    pods = sim.items("pods")
    assert len(pods) == 3 and {pod["status"]["phase"] for pod in pods} == {"Succeeded"}
    for pod in pods:
        labels = pod["metadata"]["labels"]
        assert labels["batch.kubernetes.io/job-name"] == labels["job-name"] == "migrate"
        assert labels["batch.kubernetes.io/controller-uid"] == labels["controller-uid"] == uid
        assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    status = stored["status"]
    assert status["succeeded"] == 3 and status["ready"] == 0 and "active" not in status
    assert status["completionTime"] and status["startTime"]
    for kind in ("SuccessCriteriaMet", "Complete"):
        found = condition(stored, kind)
        assert (found["status"], found["reason"]) == ("True", "CompletionsReached")


def test_job_defaults_to_one_completion(inproc):
    sim = inproc
    sim.store.create(job("once"))
    sim.settle()
    stored = sim.get(JOB, "once")
    assert (stored["spec"]["completions"], stored["spec"]["parallelism"], stored["spec"]["backoffLimit"]) == (1, 1, 6)
    assert stored["status"]["succeeded"] == 1 and condition(stored, "Complete")["status"] == "True"
