"""The kubelet: scheduling over the simulated nodes, pod status as a real kubelet reports it, broken revisions."""

from __future__ import annotations

import ipaddress

from tests.simcluster.tests.controllers.helpers import NAMESPACE, condition, container, deployment, injected, is_ready, wait_until


def pod(name: str, **spec) -> dict:
    """A bare pod with one container (``spec`` fields override)."""
    body = {"containers": [container()]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE}, "spec": body}


def test_pod_is_scheduled_and_reported_running_and_ready(inproc):
    sim = inproc
    created = sim.store.create(pod("one", initContainers=[container("setup")]))
    assert created["status"]["phase"] == "Pending"
    sim.settle()
    stored = sim.get("pods", "one")
    status = stored["status"]
    assert stored["spec"]["nodeName"] in sim.settings.nodes
    assert status["phase"] == "Running" and status["qosClass"] == "BestEffort"
    assert [c["type"] for c in status["conditions"]] == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                                         "PodScheduled"]
    assert all(c["status"] == "True" for c in status["conditions"])
    assert ipaddress.IPv4Address(status["podIP"]) in ipaddress.IPv4Network("10.0.0.0/8")
    assert status["podIPs"] == [{"ip": status["podIP"]}] and status["hostIPs"] == [{"ip": status["hostIP"]}]
    assert status["startTime"]
    [app] = status["containerStatuses"]
    assert (app["name"], app["ready"], app["started"], app["restartCount"]) == ("app", True, True, 0)
    assert app["image"] == "registry.example/app:1.0" and app["imageID"].startswith("registry.example/app@sha256:")
    assert app["containerID"].startswith("containerd://") and app["state"]["running"]["startedAt"]
    [setup] = status["initContainerStatuses"]
    assert setup["state"]["terminated"]["reason"] == "Completed" and setup["state"]["terminated"]["exitCode"] == 0


def test_pods_are_spread_over_the_nodes_and_respect_node_selectors(inproc):
    sim = inproc
    for index in range(6):
        sim.store.create(pod(f"spread-{index}"))
    pinned = sim.settings.nodes[2]
    sim.store.create(pod("pinned", nodeSelector={"kubernetes.io/hostname": pinned}))
    sim.store.create(pod("nowhere", nodeSelector={"kubernetes.io/hostname": "no-such-node"}))
    sim.settle()
    nodes = [sim.get("pods", f"spread-{index}")["spec"]["nodeName"] for index in range(6)]
    assert sorted(nodes.count(node) for node in sim.settings.nodes) == [2, 2, 2]
    assert sim.get("pods", "pinned")["spec"]["nodeName"] == pinned
    nowhere = sim.get("pods", "nowhere")
    assert "nodeName" not in nowhere["spec"] and nowhere["status"]["phase"] == "Pending"
    scheduled = condition(nowhere, "PodScheduled")
    assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")


def test_rollout_delay_keeps_pods_pending_until_it_passes(slow_inproc):
    sim = slow_inproc
    sim.settings.rollout_delay = 30.0
    sim.store.create(pod("slow"))
    assert not sim.manager.settle(0.05)
    pending = wait_until(lambda: (p := sim.get("pods", "slow")) and p["spec"].get("nodeName") and p, what="scheduling")
    wait_until(lambda: condition(sim.get("pods", "slow"), "PodScheduled"), what="pending status")
    pending = sim.get("pods", "slow")
    assert pending["status"]["phase"] == "Pending" and not is_ready(pending)
    assert pending["status"]["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}


def test_native_sidecar_of_a_broken_revision_is_never_ready(inproc):
    sim = inproc
    sim.settings.broken_revisions.add("canary")
    fields = injected("canary", native=True)
    body = pod("meshed", initContainers=fields["initContainers"], containers=fields["containers"])
    body["metadata"]["annotations"] = fields["annotations"]
    sim.store.create(body)
    sim.settle()
    stored = sim.get("pods", "meshed")
    assert stored["status"]["phase"] == "Running" and not is_ready(stored)
    [proxy] = stored["status"]["initContainerStatuses"]
    assert (proxy["name"], proxy["ready"], proxy["started"]) == ("istio-proxy", False, True)
    assert "running" in proxy["state"]
    assert condition(stored, "ContainersReady")["message"] == "containers with unready status: [istio-proxy]"

    sim.settings.broken_revisions.clear()
    wait_until(lambda: is_ready(sim.get("pods", "meshed")), what="the pod to become Ready once the revision is fixed")


def test_a_revision_broken_at_run_time_makes_its_running_pods_unready(inproc):
    sim = inproc
    fields = injected("stable")
    body = deployment("web", replicas=2)
    body["spec"]["template"]["metadata"]["annotations"] = fields["annotations"]
    body["spec"]["template"]["spec"]["containers"] = fields["containers"]
    sim.store.create(body)
    sim.settle()
    assert all(is_ready(p) for p in sim.items("pods"))
    sim.settings.broken_revisions.add("stable")
    wait_until(lambda: sim.get("apps/deployments", "web")["status"].get("readyReplicas") is None, what="pods to turn unready")
    assert not any(is_ready(p) for p in sim.items("pods"))
