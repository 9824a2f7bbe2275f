"""The report that ends every run of upgrade.yml and rollback.yml, from a record, an audit and the mesh."""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.istio import report

RECORD = {
    "source": {"revision": "1-28-1", "version": "1.28.1"}, "target": {"revision": "1-29-2", "version": "1.29.2"},
    "stage": "verify", "status": "in_progress", "started": "2026-12-01T10:00:00Z",
    "history": [{"stage": "preflight", "time": "2026-12-01T10:00:01Z", "result": "in_progress"},
                {"stage": "control_plane", "time": "2026-12-01T10:00:31Z", "result": "in_progress"},
                {"stage": "data_plane", "time": "2026-12-01T10:05:31Z", "result": "in_progress"},
                {"stage": "verify", "time": "2026-12-01T10:05:33Z", "result": "in_progress"}],
    "namespaces_before": {"bookinfo": {"istio-injection": "enabled"}, "shop": {"istio.io/rev": "1-28-1"}},
    "tags_before": {"prod-stable": "1-28-1"},
    "gateways_before": {"istio-ingress/istio-ingressgateway": {"istio.io/rev": "1-28-1"}},
    "waves": [[{"namespace": "bookinfo", "kind": "Deployment", "name": "details"},
               {"namespace": "bookinfo", "kind": "Deployment", "name": "ratings"}],
              [{"namespace": "shop", "kind": "StatefulSet", "name": "cart-db"}]],
}
SUMMARY = {"by_revision": {"1-29-2": 9, "1-28-1": 1, "none": 2}, "by_version": {"1.29.2": 9, "1.28.1": 1, "none": 2}}
ATTENTION = [{"namespace": "tagged", "name": "debug", "revision": "1-28-1", "class": "not_restartable",
              "action": "bare pod: delete it and create it again"},
             {"namespace": "kube-system", "name": "dns", "revision": None, "class": "unmanaged"}]
NAMESPACES = [{"name": "bookinfo", "istio_injection": None, "rev_label": "1-29-2"},
              {"name": "shop", "istio_injection": None, "rev_label": "1-29-2"}]


def test_report_of_a_run_that_reached_verify():
    built = report.build(RECORD, SUMMARY, ATTENTION, NAMESPACES)
    assert built["stage_seconds"] == {"preflight": 1.0, "control_plane": 30.0, "data_plane": 300.0, "verify": 2.0}
    assert built["blocked_by"] == ["tagged/debug (bare pod: delete it and create it again)"]
    assert built["namespaces"] == [{"name": "bookinfo", "before": "istio-injection=enabled", "after": "istio.io/rev=1-29-2"},
                                   {"name": "shop", "before": "istio.io/rev=1-28-1", "after": "istio.io/rev=1-29-2"}]
    assert built["waves"] == [["bookinfo/details", "bookinfo/ratings"], ["shop/cart-db"]]
    text = report.lines(built)
    assert text[0] == "Istio upgrade 1-28-1 (1.28.1) -> 1-29-2 (1.29.2): stage verify (in_progress)"
    assert text[1] == "Before finalize, 1 pod must run 1-29-2: tagged/debug (bare pod: delete it and create it again)"
    assert text[2].startswith("Next: check the service, then finalize")
    assert "control_plane 30 s" in text[3] and "data_plane 5 min" in text[3]
    assert "Namespaces: bookinfo (istio-injection=enabled -> istio.io/rev=1-29-2), shop (" in text[4]
    assert "Tags moved (revision before): prod-stable (1-28-1)" in text
    assert "Gateways moved (revision before): istio-ingress/istio-ingressgateway (1-28-1)" in text
    assert "Restarted in 2 waves: bookinfo/details, bookinfo/ratings | shop/cart-db" in text
    assert text[-2:] == ["Pods by sidecar revision: 1-28-1: 1, 1-29-2: 9, none: 2",
                         "Pods by proxy version: 1.28.1: 1, 1.29.2: 9, none: 2"]


def test_nothing_blocks_before_a_gate_and_a_rollback_needs_the_source():
    at_control_plane = dict(RECORD, stage="control_plane")
    assert report.build(at_control_plane, SUMMARY, ATTENTION, NAMESPACES)["blocked_by"] == []
    rolling_back = dict(RECORD, stage="rolling_back")
    back = report.build(rolling_back, SUMMARY, [dict(ATTENTION[0], revision="1-29-2")], NAMESPACES)
    assert back["blocked_by"] == ["tagged/debug (bare pod: delete it and create it again)"]
    assert back["next"].endswith("meshops.istio.rollback")
    assert report.lines(back)[1].startswith("Before the rollback completes, 1 pod must run 1-28-1: tagged/debug")


def test_report_without_a_record_and_in_check_mode():
    text = report.lines(report.build(None, {}, [], [], check_mode=True))
    assert text[0] == "Check mode (nothing was changed). Istio upgrade ? -> ?: stage not started"
    assert text[1].startswith("Next: start the upgrade")
    assert "Namespaces: none moved" in text
