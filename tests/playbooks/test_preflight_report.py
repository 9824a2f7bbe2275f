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
    assert "tagged/Pod/debug (debug): bare pod, not rebuilt by a restart: delete and recreate it" in report, report
    assert "batch/Deployment/worker (worker-" in report and f"its own label istio.io/rev={SOURCE} selects" in report, report
    # the gateway pins the source by its label too, but it is named in istio_gateways: the gateways stage moves it
    assert "istio-ingressgateway" not in report, report
    assert [r for r in sim.writes() if r.resource != "configmaps"] == []


def test_preflight_stops_on_what_istioctl_would_refuse(sample_mesh, run_playbook):
    """A leftover non-revisioned injector beside the tag default (IST0139) stops preflight before any write; the
    operator may go on knowingly with istio_precheck_ignore."""
    from tests.simcluster.fixtures import controlplane

    sample_mesh.load([{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                       "metadata": {"name": "istio-sidecar-injector", "labels": {"istio.io/rev": "default"}},
                       "webhooks": controlplane.injector_webhooks("", "istio-system", "default", True)}])
    sample_mesh.clear_requests()
    refused = run_playbook("upgrade", "--tags", "preflight")
    assert refused.rc != 0
    assert "Preflight refused, nothing was changed: webhooks overlap, so a pod would be injected more than once: " in refused.output
    assert "istio-sidecar-injector/namespace.sidecar-injector.istio.io" in refused.output
    # its service istiod does not run either: the control plane's own problem comes as revision_missing
    assert 'set istio_precheck_ignore to ["IST0139", "revision_missing"]' in refused.output
    assert "WARNING kubernetes_version Kubernetes 1.35 is outside the versions Istio 1.28 supports" in refused.output
    assert sample_mesh.writes() == []

    knowingly = run_playbook("upgrade", "--tags", "preflight", istio_precheck_ignore=["IST0139", "revision_missing"])
    assert knowingly.rc == 0, knowingly.output
    assert "ERROR IST0139 webhooks overlap" in knowingly.output
