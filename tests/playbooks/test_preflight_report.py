"""Preflight, on a first run, names what a workload restart will not move off the source, with what to do."""

from __future__ import annotations

from tests.playbooks.conftest import SOURCE, SOURCE_VERSION, TARGET
from tests.simcluster.fixtures import mesh


def test_first_preflight_lists_what_restarts_will_not_move(sim, run_playbook):
    objects = mesh.sample(SOURCE, SOURCE_VERSION)
    for obj in objects:
        if obj["kind"] == "StatefulSet" and obj["metadata"]["name"] == "cart-db":
            obj["spec"]["updateStrategy"] = {"type": "OnDelete"}
    sim.load(objects)
    assert sim.settle(20)

    run = run_playbook("upgrade", "--tags", "preflight")

    assert run.rc == 0, run.output
    report = run.output[run.output.index(f"What the move off {SOURCE} needs beyond pointing namespaces at {TARGET}"):]
    report = report[:report.index("TASK [")]
    assert "shop/StatefulSet/cart-db (cart-db-0, cart-db-1): updateStrategy OnDelete" in report, report
    assert "tagged/Pod/debug (debug): bare pod without an owner: delete it and create it again" in report, report
    assert "batch/Deployment/worker (worker-" in report and f"its own label istio.io/rev={SOURCE} selects" in report, report
    # the gateway pins the source by its label too, but it is named in istio_gateways: the gateways stage moves it
    assert "istio-ingressgateway" not in report, report
    assert [r for r in sim.writes() if r.resource != "configmaps"] == []
