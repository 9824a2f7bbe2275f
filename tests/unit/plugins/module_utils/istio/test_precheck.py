"""The prechecks istioctl users expect: Kubernetes version, IST0139 webhook overlap, missing revisions, unready pods."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import precheck
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import discover
from tests.unit.plugins.module_utils.istio.istio_objects import istiod_deployment, revision_mwc, tag_mwc


@pytest.mark.parametrize("server, target, severity, fragment", [
    ("v1.35.4", "1.29.1", None, None),
    ("v1.31.0", "1.29.1", None, None),
    ("v1.30.9", "1.29.1", "warning", "outside the versions Istio 1.29 supports (1.31 to 1.35)"),
    ("v1.29.2", "1.29.1", "error", "older than 1.30, the oldest Istio 1.29 installs on"),
    ("v1.35.0", "1.28.1", "warning", "outside the versions Istio 1.28 supports (1.30 to 1.34)"),
    ("v1.29.0-eks-1", "1.28.1", "warning", "(1.30 to 1.34)"),  # istioctl's minimum is 1.29: only a warning
    ("v1.28.5", "1.28.1", "error", "older than 1.29"),
    ("v1.36.1", "1.30.0", None, None),
    ("v1.31.0", "1.30.0", "error", "older than 1.32"),
    ("v1.35.0", "1.31.0", "warning", "not in the collection's table"),
    ("simcluster", "1.29.1", None, None),  # not a version: nothing to compare
    ("v1.35.0", "", None, None),
])
def test_kubernetes_version(server, target, severity, fragment):
    findings = precheck.kubernetes_version(server, target)
    if severity is None:
        assert findings == []
    else:
        (finding,) = findings
        assert (finding.code, finding.severity) == ("kubernetes_version", severity)
        assert fragment in finding.message


def test_a_canary_has_no_overlapping_webhooks():
    webhooks = [revision_mwc("1-28-1"), revision_mwc("1-29-2"), tag_mwc("default", "1-28-1"), tag_mwc("prod", "1-28-1")]
    assert precheck.webhook_overlaps(webhooks) == []


def test_a_leftover_default_injector_beside_the_default_tag_is_ist0139():
    # istio/istio#43932: the non-revisioned istio-sidecar-injector and the tag default both inject
    # istio-injection=enabled namespaces (and sidecar.istio.io/inject=true pods)
    findings = precheck.webhook_overlaps([revision_mwc(""), tag_mwc("default", "1-28-1"), revision_mwc("1-28-1")])
    (finding,) = findings
    assert (finding.code, finding.severity) == ("IST0139", "error")
    assert {"istio-revision-tag-default/namespace.sidecar-injector.istio.io", "istio-sidecar-injector/namespace.sidecar-injector.istio.io",
            "istio-revision-tag-default/object.sidecar-injector.istio.io",
            "istio-sidecar-injector/object.sidecar-injector.istio.io"} <= set(finding.objects)
    assert ("istio-revision-tag-default/namespace.sidecar-injector.istio.io + istio-sidecar-injector/namespace.sidecar-injector"
            ".istio.io (a pod labelled (no labels) in a namespace labelled istio-injection=enabled)") in finding.message
    assert finding.message.count("Remove or narrow") == 1


def test_two_revisions_selecting_the_same_label_overlap():
    twin = copy.deepcopy(revision_mwc("1-29-2"))
    twin["metadata"]["name"] = "istio-sidecar-injector-copy"
    (finding,) = precheck.webhook_overlaps([revision_mwc("1-29-2"), twin])
    assert finding.message.count(" + ") == 2  # rev.namespace. and rev.object.


def test_webhooks_that_are_not_istios_and_bad_selectors_are_left_alone():
    other = {"metadata": {"name": "other"}, "webhooks": [{"name": "a.example.com"}, {"name": "b.example.com"}]}
    broken = copy.deepcopy(revision_mwc("1-29-2"))
    for hook in broken["webhooks"]:
        hook["namespaceSelector"] = {"matchExpressions": [{"key": "x", "operator": "Bogus"}]}
    broken["metadata"]["name"] = "broken"
    assert precheck.webhook_overlaps([other, broken, revision_mwc("1-29-2")]) == []


def _namespace(name, labels):
    return {"metadata": {"name": name, "labels": labels}}


def _gateway(namespace, name, rev):
    labels = {"istio": "ingressgateway"}
    if rev:
        labels["istio.io/rev"] = rev
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"template": {
        "metadata": {"labels": labels, "annotations": {"inject.istio.io/templates": "gateway"}},
        "spec": {"containers": [{"name": "istio-proxy", "image": "auto"}]}}}}


def test_gateways_and_namespaces_on_a_revision_that_does_not_run():
    webhooks = [revision_mwc("1-28-1"), tag_mwc("prod", "1-28-1"), tag_mwc("old", "1-27-3")]
    plane = discover([istiod_deployment("1-28-1", "1.28.1")], webhooks, [])
    namespaces = [_namespace("shop", {"istio.io/rev": "1-28-1"}), _namespace("web", {"istio.io/rev": "prod"}),
                  _namespace("stray", {"istio.io/rev": "1-26-0"}),
                  _namespace("both", {"istio.io/rev": "gone", "istio-injection": "enabled"}), _namespace("plain", {})]
    gateways = [_gateway("ingress", "ok", "1-28-1"), _gateway("ingress", "tagged", "prod"),
                _gateway("ingress", "lost", "1-26-0"), _gateway("ingress", "unlabelled", None)]
    findings = precheck.missing_revisions(plane, namespaces, gateways)
    by_severity = {(f.severity, f.objects) for f in findings}
    assert ("warning", ("stray (1-26-0)",)) in by_severity  # istio-injection wins in "both": not counted
    assert ("error", ("ingress/lost (1-26-0)",)) in by_severity
    # the control plane's own problem: tag old points at 1-27-3, which does not run
    assert any(f.severity == "error" and "tag old" in f.message for f in findings)
    assert len(findings) == 3


def _pod(name, phase, ready, waiting=None):
    status = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    if waiting:
        status["containerStatuses"] = [{"name": "app", "state": {"waiting": {"reason": waiting}}}]
    return {"metadata": {"namespace": "shop", "name": name}, "status": status}


def test_pods_not_ready():
    pods = [_pod("ok", "Running", True), _pod("crash", "Running", False, "CrashLoopBackOff"), _pod("done", "Succeeded", False),
            _pod("wait", "Pending", False), {"metadata": {"namespace": "shop", "name": "new"}}]
    (finding,) = precheck.pods_not_ready(pods)
    assert (finding.code, finding.severity) == ("pods_not_ready", "warning")
    assert finding.objects == ("shop/crash (app: CrashLoopBackOff)", "shop/new (no status)", "shop/wait (Pending)")
    assert finding.message.startswith("3 pods are not Ready")
    assert precheck.pods_not_ready([_pod("ok", "Running", True)]) == []
