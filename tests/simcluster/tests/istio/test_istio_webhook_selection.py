"""Which revision injects a new pod: the API server's webhook selection plus istiod's policy, table-driven."""

from __future__ import annotations

import pytest

from tests.simcluster.fixtures import controlplane
from tests.simcluster.istio.webhooks import rule_matches

from tests.simcluster.tests.istio.helpers import NEW, OLD, Mesh, ready, status_of, two_revisions

CASES = [
    # (id, namespace, pod labels, pod annotations, spec extras, expected revision or None)
    ("ns-rev-old", "old-rev", {}, {}, {}, OLD),
    ("ns-rev-new", "new-rev", {}, {}, {}, NEW),
    ("both-labels-go-to-default", "both", {}, {}, {}, OLD),
    ("injection-enabled-default-tag", "enabled", {}, {}, {}, OLD),
    ("injection-disabled", "disabled", {}, {}, {}, None),
    ("injection-disabled-beats-pod-rev", "disabled", {"istio.io/rev": NEW}, {}, {}, None),
    ("pod-rev-in-plain-ns", "plain", {"istio.io/rev": NEW}, {}, {}, NEW),
    ("ns-rev-overrides-pod-rev", "old-rev", {"istio.io/rev": NEW}, {}, {}, OLD),
    ("pod-label-inject-false", "old-rev", {"sidecar.istio.io/inject": "false"}, {}, {}, None),
    ("pod-annotation-inject-false", "old-rev", {}, {"sidecar.istio.io/inject": "false"}, {}, None),
    ("label-wins-over-annotation", "old-rev", {"sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "false"}, {}, OLD),
    ("tag-namespace", "tagged", {}, {}, {}, NEW),
    ("pod-tag-in-plain-ns", "plain", {"istio.io/rev": "prod-stable"}, {}, {}, NEW),
    ("rev-default-namespace", "rev-default", {}, {}, {}, OLD),
    ("pod-inject-true-plain-ns", "plain", {"sidecar.istio.io/inject": "true"}, {}, {}, OLD),
    ("plain-ns-plain-pod", "plain", {}, {}, {}, None),
    ("host-network", "old-rev", {}, {}, {"hostNetwork": True}, None),
    ("kube-system", "kube-system", {}, {}, {}, None),
]


@pytest.mark.parametrize("ns,labels,annotations,extra,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_revision_that_injects(mesh, ns, labels, annotations, extra, expected):
    pod = mesh.pod(ns, labels, annotations, **extra)
    status = status_of(pod)
    if expected is None:
        assert status is None
        assert [c["name"] for c in pod["spec"]["containers"]] == ["app"]
        return
    assert status["revision"] == expected
    assert pod["metadata"]["annotations"]["istio.io/rev"] == expected
    proxies = [c for c in pod["spec"]["containers"] + pod["spec"].get("initContainers", []) if c["name"] == "istio-proxy"]
    assert len(proxies) == 1


NO_DEFAULT_CASES = [
    ("both-labels-without-default", "both", {}, None),
    ("injection-enabled-without-default", "enabled", {}, None),
    ("rev-default-without-default", "rev-default", {}, None),
    ("pod-inject-true-without-default", "plain", {"sidecar.istio.io/inject": "true"}, None),
    ("ns-rev-still-works", "new-rev", {}, NEW),
]


@pytest.mark.parametrize("ns,labels,expected", [c[1:] for c in NO_DEFAULT_CASES], ids=[c[0] for c in NO_DEFAULT_CASES])
def test_without_a_default_revision(ns, labels, expected):
    pod = Mesh(two_revisions(default_tag=False)).pod(ns, labels)
    status = status_of(pod)
    assert (status or {}).get("revision") == expected


def test_default_control_plane_serves_injection_enabled():
    objs = ready(controlplane.render("", "1.26.2"))
    mesh = Mesh(objs + [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": {"istio-injection": "enabled"}}}])
    pod = mesh.pod("apps")
    assert status_of(pod)["revision"] == "default"
    assert pod["metadata"]["annotations"]["istio.io/rev"] == "default"
    proxy = next(c for c in pod["spec"]["containers"] if c["name"] == "istio-proxy")
    assert {"name": "CA_ADDR", "value": "istiod.istio-system.svc:15012"} in proxy["env"]


def test_deactivated_default_webhook_does_not_match():
    objs = ready(controlplane.render("", "1.26.2"))
    mwc = next(o for o in objs if o["kind"] == "MutatingWebhookConfiguration")
    for webhook in mwc["webhooks"]:
        webhook["namespaceSelector"] = {"matchLabels": {"istio.io/deactivated": "never-match"}}
        webhook["objectSelector"] = {"matchLabels": {"istio.io/deactivated": "never-match"}}
    mesh = Mesh(objs + [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": {"istio-injection": "enabled"}}}])
    assert status_of(mesh.pod("apps")) is None


RULES = [
    ({"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}, True),
    ({"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]}, True),
    ({"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["*/*"]}, True),
    ({"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods/*"]}, True),
    ({"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods/status"]}, False),
    ({"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}, False),
    ({"operations": ["CREATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["pods"]}, False),
    ({"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v2"], "resources": ["pods"]}, False),
    ({"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Cluster"}, False),
    ({"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Namespaced"}, True),
]


@pytest.mark.parametrize("rule,expected", RULES)
def test_rule_matching(rule, expected):
    assert rule_matches(rule, "CREATE", "", "v1", "pods") is expected
