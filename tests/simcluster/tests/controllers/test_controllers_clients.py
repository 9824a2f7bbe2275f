"""The controllers seen through real clients: kubectl rollout/wait and the Kubernetes Python client's models."""

from __future__ import annotations

import json

from tests.simcluster.tests.controllers.helpers import daemonset, deployment, injected, statefulset

NAMESPACE = "demo"


def _create(sim, *objs):
    sim.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    for obj in objs:
        sim.store.create(obj)
    assert sim.settle(10)


def test_kubectl_rollout_restart_and_status_of_statefulsets_and_daemonsets(sim, kubectl):
    sim.settings.rollout_delay = 0.02
    _create(sim, statefulset("db", replicas=2), daemonset("agent"))
    for workload in ("statefulset/db", "daemonset/agent"):
        kubectl("-n", NAMESPACE, "rollout", "restart", workload, check=True)
    db = kubectl("-n", NAMESPACE, "rollout", "status", "statefulset/db", "--timeout=30s", check=True).stdout
    agent = kubectl("-n", NAMESPACE, "rollout", "status", "daemonset/agent", "--timeout=30s", check=True).stdout
    # The API server defaults partition to 0, so kubectl reports a "partitioned" roll out, as on a real cluster.
    assert "partitioned roll out complete: 2 new pods have been updated..." in db
    status = sim.store.get("apps/statefulsets", NAMESPACE, "db")["status"]
    assert status["currentRevision"] == status["updateRevision"] and status["updatedReplicas"] == 2
    assert 'daemon set "agent" successfully rolled out' in agent
    history = kubectl("-n", NAMESPACE, "rollout", "history", "statefulset/db", check=True).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]


def test_kubectl_rollout_status_reports_an_exceeded_progress_deadline(sim, kubectl):
    sim.settings.broken_revisions.add("canary")
    body = deployment("web", replicas=2, progressDeadlineSeconds=1)
    fields = injected("canary")
    body["spec"]["template"]["metadata"]["annotations"] = fields["annotations"]
    body["spec"]["template"]["spec"]["containers"] = fields["containers"]
    _create(sim, body)
    result = kubectl("-n", NAMESPACE, "rollout", "status", "deployment/web", "--timeout=20s")
    assert result.returncode != 0
    assert 'deployment "web" exceeded its progress deadline' in result.stderr


def test_kubectl_rollout_undo_and_wait_for_a_job(sim, kubectl):
    _create(sim, deployment("web", replicas=2))
    kubectl("-n", NAMESPACE, "rollout", "restart", "deployment/web", check=True)
    assert sim.settle(10)
    kubectl("-n", NAMESPACE, "rollout", "undo", "deployment/web", check=True)
    kubectl("-n", NAMESPACE, "rollout", "status", "deployment/web", "--timeout=30s", check=True)
    stored = sim.store.get("apps/deployments", NAMESPACE, "web")
    assert stored["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert "annotations" not in stored["spec"]["template"]["metadata"]

    kubectl("-n", NAMESPACE, "create", "job", "migrate", "--image=registry.example/migrate:1", check=True)
    kubectl("-n", NAMESPACE, "wait", "--for=condition=complete", "job/migrate", "--timeout=30s", check=True)
    pods = json.loads(kubectl("-n", NAMESPACE, "get", "pods", "-l", "job-name=migrate", "-o", "json", check=True).stdout)["items"]
    assert [pod["status"]["phase"] for pod in pods] == ["Succeeded"]


def test_python_client_reads_controller_written_objects(sim, k8s_client):
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    _create(sim, deployment("web", replicas=2))
    apps, core = client.AppsV1Api(k8s_client), client.CoreV1Api(k8s_client)
    deploy = apps.read_namespaced_deployment("web", NAMESPACE)
    assert deploy.status.available_replicas == 2 and deploy.status.observed_generation == 1
    reasons = {c.type: c.reason for c in deploy.status.conditions}
    assert reasons == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}
    [rs] = apps.list_namespaced_replica_set(NAMESPACE).items
    assert rs.metadata.owner_references[0].controller and rs.status.ready_replicas == 2
    pods = core.list_namespaced_pod(NAMESPACE, label_selector="app=web").items
    assert len(pods) == 2
    for pod in pods:
        assert pod.status.phase == "Running" and pod.status.container_statuses[0].ready
        assert pod.status.container_statuses[0].state.running.started_at is not None
