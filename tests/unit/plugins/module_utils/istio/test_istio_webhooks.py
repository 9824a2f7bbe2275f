"""Which webhook fires for a new pod and which revision injects it (ISTIO.md section 1 and 2)."""

from __future__ import annotations

import pytest

from istio_objects import revision_mwc, tag_mwc
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import (
    evaluate_injection,
    injection_for_namespace,
    injector_webhooks,
)

# Installations: the default (non-revisioned) control plane, two revisions, tags.
DEFAULT_ONLY = [revision_mwc("")]
REVISIONS = [revision_mwc("1-28-1"), revision_mwc("1-29-2")]
DEFAULT_TAG = [revision_mwc("1-28-1"), revision_mwc("1-29-2"), tag_mwc("default", "1-28-1")]
TAG_SET_DEFAULT = [revision_mwc("", deactivated=True), revision_mwc("1-29-2"), tag_mwc("default", "1-29-2")]
PROD_TAG = [revision_mwc("1-28-1"), revision_mwc("1-29-2"), tag_mwc("default", "1-28-1"), tag_mwc("prod", "1-29-2")]

CASES = [
    # (id, mwcs, namespace labels, pod labels, pod annotations, injected revision or None, first webhook name)
    ("enabled-default", DEFAULT_ONLY, {"istio-injection": "enabled"}, {}, {}, "default", "namespace.sidecar-injector.istio.io"),
    ("enabled-no-default", REVISIONS, {"istio-injection": "enabled"}, {}, {}, None, None),
    ("enabled-default-tag", DEFAULT_TAG, {"istio-injection": "enabled"}, {}, {}, "1-28-1", "namespace.sidecar-injector.istio.io"),
    ("rev-label", REVISIONS, {"istio.io/rev": "1-29-2"}, {}, {}, "1-29-2", "rev.namespace.sidecar-injector.istio.io"),
    ("rev-unknown", REVISIONS, {"istio.io/rev": "1-30-0"}, {}, {}, None, None),
    ("both-labels-default-wins", DEFAULT_TAG, {"istio-injection": "enabled", "istio.io/rev": "1-29-2"}, {}, {}, "1-28-1",
     "namespace.sidecar-injector.istio.io"),
    ("both-labels-no-default", REVISIONS, {"istio-injection": "enabled", "istio.io/rev": "1-29-2"}, {}, {}, None, None),
    ("disabled", DEFAULT_TAG, {"istio-injection": "disabled", "istio.io/rev": "1-29-2"}, {"sidecar.istio.io/inject": "true"}, {},
     None, None),
    ("ns-rev-overrides-pod-rev", REVISIONS, {"istio.io/rev": "1-29-2"}, {"istio.io/rev": "1-28-1"}, {}, "1-29-2",
     "rev.namespace.sidecar-injector.istio.io"),
    ("pod-rev-in-unlabelled-ns", REVISIONS, {}, {"istio.io/rev": "1-28-1"}, {}, "1-28-1", "rev.object.sidecar-injector.istio.io"),
    ("pod-inject-false-label", DEFAULT_TAG, {"istio-injection": "enabled"}, {"sidecar.istio.io/inject": "false"}, {}, None, None),
    ("pod-inject-false-annotation", DEFAULT_TAG, {"istio-injection": "enabled"}, {}, {"sidecar.istio.io/inject": "false"}, None,
     "namespace.sidecar-injector.istio.io"),
    ("label-beats-annotation", DEFAULT_TAG, {"istio-injection": "enabled"}, {"sidecar.istio.io/inject": "true"},
     {"sidecar.istio.io/inject": "false"}, "1-28-1", "namespace.sidecar-injector.istio.io"),
    ("pod-inject-true-unlabelled-ns", DEFAULT_TAG, {}, {"sidecar.istio.io/inject": "true"}, {}, "1-28-1", "object.sidecar-injector.istio.io"),
    ("nothing-selected", DEFAULT_TAG, {}, {}, {}, None, None),
    ("rev-default-label", DEFAULT_TAG, {"istio.io/rev": "default"}, {}, {}, "1-28-1", "rev.namespace.sidecar-injector.istio.io"),
    ("rev-default-label-default-install", DEFAULT_ONLY, {"istio.io/rev": "default"}, {}, {}, "default",
     "rev.namespace.sidecar-injector.istio.io"),
    ("tag-set-default-deactivates-untagged", TAG_SET_DEFAULT, {"istio-injection": "enabled"}, {}, {}, "1-29-2",
     "namespace.sidecar-injector.istio.io"),
    ("prod-tag", PROD_TAG, {"istio.io/rev": "prod"}, {}, {}, "1-29-2", "rev.namespace.sidecar-injector.istio.io"),
    ("no-webhooks", [], {"istio-injection": "enabled"}, {}, {}, None, None),
]


@pytest.mark.parametrize("mwcs, ns_labels, pod_labels, pod_annotations, revision, first", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_injection(mwcs, ns_labels, pod_labels, pod_annotations, revision, first):
    decision = evaluate_injection(mwcs, "shop", ns_labels, pod_labels, pod_annotations)
    assert decision.injected is (revision is not None)
    assert decision.revision == revision
    assert (decision.webhook.name if decision.webhook else None) == first
    assert decision.reason


def test_tag_is_reported():
    decision = evaluate_injection(PROD_TAG, "shop", {"istio.io/rev": "prod"})
    assert decision.tag == "prod"
    assert decision.webhook.configuration == "istio-revision-tag-prod"
    assert decision.webhook.service == "istio-system/istiod-1-29-2"


def test_overlap_of_untagged_default_and_default_tag_is_flagged():
    # IST0139: the untagged default MWC was not deactivated when the default tag was made.
    mwcs = [revision_mwc(""), revision_mwc("1-29-2"), tag_mwc("default", "1-29-2")]
    decision = evaluate_injection(mwcs, "shop", {"istio-injection": "enabled"})
    assert decision.overlap
    assert [h.configuration for h in decision.matched] == ["istio-revision-tag-default", "istio-sidecar-injector"]
    # The API server calls configurations in name order; each re-injects, the last one's revision stays.
    assert decision.webhook.configuration == "istio-revision-tag-default"
    assert decision.revision == "default"
    assert "injected 2 times" in decision.reason


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"])
def test_system_namespaces_are_never_injected(namespace):
    decision = evaluate_injection(DEFAULT_TAG, namespace, {"istio-injection": "enabled"})
    assert not decision.injected
    assert decision.webhook is not None
    assert namespace in decision.reason


def test_host_network_pods_are_never_injected():
    decision = evaluate_injection(DEFAULT_TAG, "shop", {"istio-injection": "enabled"}, host_network=True)
    assert not decision.injected and "host-network" in decision.reason


def test_deactivated_webhooks_are_listed_as_such():
    hooks = injector_webhooks(TAG_SET_DEFAULT)
    deactivated = {h.configuration for h in hooks if h.deactivated}
    assert deactivated == {"istio-sidecar-injector"}
    assert all(h.failure_policy == "Fail" for h in hooks)


def test_webhooks_not_acting_on_pod_create_are_ignored():
    mwc = revision_mwc("1-29-2")
    for hook in mwc["webhooks"]:
        hook["rules"] = [{"operations": ["UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]
    assert injector_webhooks([mwc]) == []


@pytest.mark.parametrize("labels, mode, revision", [
    ({"istio-injection": "enabled"}, "enabled", "default"),
    ({"istio.io/rev": "canary"}, "revision", "canary"),
    ({"istio-injection": "enabled", "istio.io/rev": "canary"}, "both", "default"),
    ({"istio-injection": "disabled"}, "disabled", None),
    ({"istio-injection": "disabled", "istio.io/rev": "canary"}, "disabled", None),
    ({"istio-injection": "yes"}, "disabled", None),
    ({}, "none", None),
    (None, "none", None),
])
def test_injection_for_namespace(labels, mode, revision):
    summary = injection_for_namespace(labels)
    assert (summary["mode"], summary["revision"]) == (mode, revision)
