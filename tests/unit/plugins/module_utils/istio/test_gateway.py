"""Gateways as Deployments: injected or not, the revision their pod template selects, and the changes that move them."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import gateway as G
from tests.simcluster.fixtures import gateway as gateway_fixture

PROXYV2 = "docker.io/istio/proxyv2:1.27.3"


def deployment(pod_labels=None, annotations=None, image="auto", name="istio-ingressgateway", containers=None, **meta):
    """A gateway-like Deployment with the given pod template labels, annotations and istio-proxy image."""
    if containers is None:
        containers = [{"name": "istio-proxy", "image": image}]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": dict({"name": name, "namespace": "istio-ingress", "labels": {"app": name, "istio": "ingressgateway"}}, **meta),
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name, "istio": "ingressgateway"}},
                 "template": {"metadata": {"labels": dict({"app": name, "istio": "ingressgateway"}, **(pod_labels or {})),
                                           "annotations": dict(annotations or {})},
                              "spec": {"containers": containers}}},
    }


CHART = {"inject.istio.io/templates": "gateway"}


@pytest.mark.parametrize("pod_labels, annotations, image, containers, kind, reason", [
    ({"sidecar.istio.io/inject": "true"}, CHART, "auto", None, G.INJECTED, "injected gateway"),
    ({"istio.io/rev": "1-27-3"}, {}, "auto", None, G.INJECTED, "injected gateway"),
    ({"sidecar.istio.io/inject": "true"}, CHART, "example.com/istio/proxyv2:1.27.3", None, G.INJECTED, "injected gateway"),
    ({"sidecar.istio.io/inject": "false"}, {}, PROXYV2, None, G.NOT_INJECTED, "istioctl-profile gateway"),
    ({}, {"sidecar.istio.io/inject": "false"}, PROXYV2, None, G.NOT_INJECTED, "istioctl-profile gateway"),
    ({}, {}, PROXYV2, None, G.NOT_INJECTED, "is written in the pod template, not filled in by the injector"),
    ({}, {}, None, [{"name": "web", "image": "nginx:1.27"}], G.NOT_A_GATEWAY, "no istio-proxy container"),
    ({}, {}, None, [], G.NOT_A_GATEWAY, "no istio-proxy container"),
])
def test_gateway_kind(pod_labels, annotations, image, containers, kind, reason):
    found, why = G.gateway_kind(deployment(pod_labels, annotations, image, containers=containers))
    assert found == kind
    assert reason in why


def test_the_fixture_gateway_is_injected():
    rendered = [obj for obj in gateway_fixture.render(revision="1-27-3") if obj["kind"] == "Deployment"][0]
    assert G.gateway_kind(rendered)[0] == G.INJECTED
    assert G.selected_revision(G.template_labels(rendered), G.template_annotations(rendered)) == "1-27-3"


@pytest.mark.parametrize("pod_labels, annotations, selected", [
    ({"istio.io/rev": "1-29-2", "sidecar.istio.io/inject": "true"}, {}, "1-29-2"),
    ({"istio.io/rev": "prod-stable"}, {}, "prod-stable"),
    ({"sidecar.istio.io/inject": "true"}, {}, "default"),
    ({}, {"sidecar.istio.io/inject": "true"}, "default"),
    ({"sidecar.istio.io/inject": "false"}, {"sidecar.istio.io/inject": "true"}, None),
    ({}, {}, None),
])
def test_selected_revision(pod_labels, annotations, selected):
    assert G.selected_revision(pod_labels, annotations) == selected


@pytest.mark.parametrize("pod_labels, annotations, after", [
    # The chart's labels: the inject label stays "true" beside the new revision.
    ({"app": "gw", "sidecar.istio.io/inject": "true", "istio.io/rev": "1-27-3"}, {},
     {"app": "gw", "sidecar.istio.io/inject": "true", "istio.io/rev": "1-29-2"}),
    ({"app": "gw", "sidecar.istio.io/inject": "true"}, {}, {"app": "gw", "sidecar.istio.io/inject": "true", "istio.io/rev": "1-29-2"}),
    # A "false" label or (without label) annotation would block every injector: it becomes the label "true".
    ({"app": "gw", "sidecar.istio.io/inject": "false"}, {}, {"app": "gw", "sidecar.istio.io/inject": "true", "istio.io/rev": "1-29-2"}),
    ({"app": "gw"}, {"sidecar.istio.io/inject": "false"}, {"app": "gw", "sidecar.istio.io/inject": "true", "istio.io/rev": "1-29-2"}),
    # The label wins over the annotation: a "false" annotation under a "true" label changes nothing.
    ({"app": "gw", "sidecar.istio.io/inject": "true"}, {"sidecar.istio.io/inject": "false"},
     {"app": "gw", "sidecar.istio.io/inject": "true", "istio.io/rev": "1-29-2"}),
    ({"app": "gw"}, {}, {"app": "gw", "istio.io/rev": "1-29-2"}),
])
def test_moved_labels(pod_labels, annotations, after):
    assert G.moved_labels(pod_labels, annotations, "1-29-2") == after


@pytest.mark.parametrize("before, after, patch", [
    ({"a": "1"}, {"a": "1"}, None),
    ({"istio.io/rev": "1-27-3"}, {"istio.io/rev": "1-29-2"}, {"spec": {"template": {"metadata": {"labels": {"istio.io/rev": "1-29-2"}}}}}),
    ({"sidecar.istio.io/inject": "false"}, {"sidecar.istio.io/inject": "true", "istio.io/rev": "x"},
     {"spec": {"template": {"metadata": {"labels": {"sidecar.istio.io/inject": "true", "istio.io/rev": "x"}}}}}),
    ({"gone": "1"}, {}, {"spec": {"template": {"metadata": {"labels": {"gone": None}}}}}),
])
def test_labels_patch(before, after, patch):
    assert G.labels_patch(before, after) == patch


def test_canary_deployment_copies_selector_and_pod_labels():
    main = deployment({"sidecar.istio.io/inject": "true", "istio.io/rev": "1-27-3"}, CHART, uid="u-1", resourceVersion="7")
    main["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "3", "meta.helm.sh/release-name": "gw"}
    main["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm"
    canary = G.canary_deployment(main, "1-29-2", 1)
    assert canary["metadata"] == {"name": "istio-ingressgateway-canary", "namespace": "istio-ingress",
                                  "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"},
                                  "annotations": {G.CANARY_OF: "istio-ingressgateway"}}
    assert canary["spec"]["selector"] == main["spec"]["selector"]
    assert canary["spec"]["replicas"] == 1
    assert canary["spec"]["template"]["metadata"]["labels"] == {"app": "istio-ingressgateway", "istio": "ingressgateway",
                                                                "sidecar.istio.io/inject": "true", "istio.io/rev": "1-29-2"}
    assert canary["spec"]["template"]["metadata"]["annotations"] == CHART
    assert G.canary_of(canary) == "istio-ingressgateway" and G.canary_of(main) is None
    # The gateway itself is not changed.
    assert main["spec"]["template"]["metadata"]["labels"]["istio.io/rev"] == "1-27-3" and main["spec"]["replicas"] == 2


@pytest.mark.parametrize("rev, replicas, patch", [
    ("1-29-2", 1, None),
    ("1-29-2", 3, {"spec": {"replicas": 3}}),
    ("1-30-0", 1, {"spec": {"template": {"metadata": {"labels": {"istio.io/rev": "1-30-0"}}}}}),
    ("1-30-0", 2, {"spec": {"replicas": 2, "template": {"metadata": {"labels": {"istio.io/rev": "1-30-0"}}}}}),
])
def test_canary_patch(rev, replicas, patch):
    canary = G.canary_deployment(deployment({"sidecar.istio.io/inject": "true", "istio.io/rev": "1-27-3"}, CHART), "1-29-2", 1)
    assert G.canary_patch(canary, rev, replicas) == patch


def test_summary_keeps_only_injection_labels():
    assert G.summary({"app": "gw", "istio.io/rev": "1-29-2", "sidecar.istio.io/inject": "true"}, 2) == {
        "pod_labels": {"istio.io/rev": "1-29-2", "sidecar.istio.io/inject": "true"}, "replicas": 2}
    assert G.canary_name("istio-ingressgateway") == "istio-ingressgateway-canary"
