"""The controller manager: start over existing objects, survive broken objects, reset, and many workloads."""

from __future__ import annotations

import logging

from tests.simcluster.tests.controllers.helpers import NAMESPACE, Sim, deployment, is_ready
from tests.simcluster.cluster import Settings
from tests.simcluster.controllers import ControllerManager
from tests.simcluster.store import Store


def test_start_reconciles_objects_stored_before_it(inproc):
    sim = inproc
    sim.manager.stop()
    store = Store()
    store.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, deployment("early", replicas=2)])
    manager = ControllerManager(store, Settings())
    manager.start()
    try:
        assert manager.settle(10)
        pods = store.list("pods", NAMESPACE)[0]
        assert len(pods) == 2 and all(is_ready(pod) for pod in pods)
    finally:
        manager.stop()


def test_a_broken_object_does_not_stop_the_other_controllers(inproc, caplog):
    sim = inproc
    bad = deployment("bad", replicas=1, strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "lots", "maxUnavailable": 1}})
    with caplog.at_level(logging.ERROR, logger="tests.simcluster.controllers.manager"):
        sim.store.load([bad])
        sim.store.create(deployment("good", replicas=2))
        sim.settle()
    assert sim.get("apps/deployments", "good")["status"]["availableReplicas"] == 2
    assert "status" not in sim.get("apps/deployments", "bad")
    assert any("apps/deployments demo/bad" in record.getMessage() for record in caplog.records)


def test_reset_forgets_everything_and_keeps_working():
    sim = Sim()
    try:
        sim.store.create(deployment("before", replicas=2))
        sim.settle()
        sim.store.reset()
        sim.manager.reset()
        sim.store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        sim.store.create(deployment("after", replicas=1))
        sim.settle()
        assert [pod["metadata"]["labels"]["app"] for pod in sim.items("pods")] == ["after"]
    finally:
        sim.manager.stop()


def test_many_deployments_roll_out(inproc):
    sim = inproc
    count = 300
    for index in range(count):
        sim.store.create(deployment(f"app-{index}", replicas=1))
    sim.settle(60)
    deployments = sim.items("apps/deployments")
    assert len(deployments) == count
    assert all(d["status"].get("availableReplicas") == 1 for d in deployments)
    assert len(sim.items("pods")) == count
