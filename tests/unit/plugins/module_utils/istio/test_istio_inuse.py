"""The in-use report that guards removing a revision: namespaces, pods, gateways, tags, default validator."""

from __future__ import annotations

import json

import pytest

from istio_objects import istiod_deployment, revision_mwc, tag_mwc, validator_vwc
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import (
    default_moved_problem,
    discover,
    with_default_moved,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.inuse import (
    describe_users,
    in_use_report,
    is_in_use,
    names_for,
    namespaces_using_tag,
    selected_name,
)
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import evaluate_injection


def plane(default_tag_to="1-28-1", validator_to="1-28-1", tags=(("prod", "1-28-1"),)):
    """1-28-1 and 1-29-2 installed; tags and the default validator as asked."""
    mutating = [revision_mwc("1-28-1"), revision_mwc("1-29-2")] + [tag_mwc(t, r) for t, r in tags]
    if default_tag_to:
        mutating.append(tag_mwc("default", default_tag_to))
    validating = [validator_vwc(validator_to, name="istiod-default-validator")] if validator_to else []
    return discover([istiod_deployment("1-28-1", "1.28.1"), istiod_deployment("1-29-2", "1.29.2")], mutating, validating)


def ns(name, labels):
    return {"metadata": {"name": name, "labels": labels}}


def pod(namespace, name, revision=None, phase="Running", gateway=False):
    meta = {"name": name, "namespace": namespace, "annotations": {}}
    containers = [{"name": "app", "image": "nginx"}]
    if revision:
        meta["annotations"]["sidecar.istio.io/status"] = json.dumps({"containers": ["istio-proxy"], "revision": revision})
        containers.append({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.28.1"})
    if gateway:
        meta["annotations"]["inject.istio.io/templates"] = "gateway"
    return {"metadata": meta, "spec": {"containers": containers}, "status": {"phase": phase}}


def gateway(namespace, name, rev_label, template="gateway"):
    annotations = {"inject.istio.io/templates": template} if template else {}
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"template": {"metadata": {"labels": {"istio.io/rev": rev_label, "sidecar.istio.io/inject": "true"},
                                               "annotations": annotations}}}}


@pytest.mark.parametrize("labels, revision, expected", [
    ({"istio.io/rev": "1-28-1"}, "1-28-1", ("istio.io/rev=1-28-1", "revision")),
    ({"istio.io/rev": "1-28-1"}, "1-29-2", None),
    ({"istio.io/rev": "prod"}, "1-28-1", ("istio.io/rev=prod", "tag prod")),
    ({"istio.io/rev": "prod"}, "1-29-2", None),
    ({"istio-injection": "enabled"}, "1-28-1", ("istio-injection=enabled", "default revision")),
    ({"istio-injection": "enabled"}, "1-29-2", None),
    # istio-injection wins over istio.io/rev: the namespace uses the default revision, not the one it names
    ({"istio-injection": "enabled", "istio.io/rev": "1-29-2"}, "1-29-2", None),
    ({"istio-injection": "enabled", "istio.io/rev": "1-29-2"}, "1-28-1", ("istio-injection=enabled", "default revision")),
    ({"istio-injection": "disabled", "istio.io/rev": "1-28-1"}, "1-28-1", None),
    # with a default tag, istio.io/rev=default is served through the tag's rev.namespace. webhook
    ({"istio.io/rev": "default"}, "1-28-1", ("istio.io/rev=default", "tag default")),
    ({"istio.io/rev": "default"}, "1-29-2", None),
    ({}, "1-28-1", None),
])
def test_namespaces_that_select_a_revision(labels, revision, expected):
    report = in_use_report(revision, plane(), [{"metadata": {"name": "shop", "labels": labels}}], [], [])
    found = [(u["label"], u["through"]) for u in report["namespaces"]]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize("the_pod, expected", [
    (pod("shop", "a", "1-28-1"), [("shop", "a", False)]),
    (pod("shop", "a", "1-29-2"), []),
    (pod("shop", "a", None), []),
    (pod("shop", "done", "1-28-1", phase="Succeeded"), []),
    (pod("shop", "crashed", "1-28-1", phase="Failed"), []),
    (pod("istio-ingress", "gw", "1-28-1", gateway=True), [("istio-ingress", "gw", True)]),
])
def test_pods_with_a_sidecar_of_the_revision(the_pod, expected):
    report = in_use_report("1-28-1", plane(), [], [the_pod], [])
    assert [(u["namespace"], u["name"], u["gateway"]) for u in report["pods"]] == expected


@pytest.mark.parametrize("workload, revision, expected", [
    (gateway("istio-ingress", "gw", "1-29-2"), "1-29-2", ["istio-ingress/gw istio.io/rev=1-29-2"]),
    (gateway("istio-ingress", "gw", "prod"), "1-28-1", ["istio-ingress/gw istio.io/rev=prod"]),
    (gateway("istio-ingress", "gw", "1-29-2"), "1-28-1", []),
    (gateway("shop", "app", "1-29-2", template=None), "1-29-2", []),
])
def test_gateways_whose_template_names_the_revision_or_a_tag(workload, revision, expected):
    report = in_use_report(revision, plane(), [], [], [workload])
    assert ["%s/%s %s" % (u["namespace"], u["name"], u["label"]) for u in report["gateways"]] == expected


def test_tags_and_default_validator():
    report = in_use_report("1-28-1", plane(), [], [], [])
    assert report["tags"] == ["default", "prod"]
    assert report["default_validator"] is True
    assert is_in_use(report)
    assert describe_users(report) == "tags default, prod; istiod-default-validator points at it"


def test_unused_revision():
    report = in_use_report("1-29-2", plane(), [ns("shop", {"istio.io/rev": "1-28-1"})], [pod("shop", "a", "1-28-1")],
                           [gateway("istio-ingress", "gw", "1-28-1")])
    assert report == {"namespaces": [], "pods": [], "gateways": [], "tags": [], "default_validator": False}
    assert not is_in_use(report)
    assert describe_users(report) == ""


def test_default_revision_without_a_tag():
    without_tag = discover([istiod_deployment("", "1.27.3")], [revision_mwc("")], [])
    report = in_use_report("default", without_tag, [ns("a", {"istio.io/rev": "default"}), ns("b", {"istio-injection": "enabled"})], [], [])
    assert [(u["name"], u["through"]) for u in report["namespaces"]] == [("a", "revision"), ("b", "default revision")]


def test_names_for_a_revision():
    assert names_for("1-28-1", plane()) == {"1-28-1", "prod", "default"}
    assert names_for("1-29-2", plane(tags=(("canary", "1-29-2"),))) == {"1-29-2", "canary"}


def test_describe_users_shortens_long_lists():
    pods = [pod("shop", "p%02d" % i, "1-29-2") for i in range(12)]
    report = in_use_report("1-29-2", plane(), [ns("shop", {"istio.io/rev": "1-29-2"})], pods, [])
    assert describe_users(report, limit=2) == "namespaces shop (istio.io/rev=1-29-2); pods shop/p00, shop/p01 and 10 more"


def test_with_the_default_moved_the_earlier_default_is_used_only_by_what_still_names_it():
    """Finalize plans the removal of the source as if the tag default and istiod-default-validator had moved already."""
    now = plane(tags=())
    namespaces = [ns("bookinfo", {"istio-injection": "enabled"}), ns("apps", {"istio.io/rev": "default"}),
                  ns("shop", {"istio.io/rev": "1-29-2"})]
    workloads = [gateway("istio-ingress", "gw", "default")]
    before = in_use_report("1-28-1", now, namespaces, [], workloads)
    assert ([u["name"] for u in before["namespaces"]], before["tags"], before["default_validator"]) == (
        ["apps", "bookinfo"], ["default"], True)
    assert [g["name"] for g in before["gateways"]] == ["gw"]
    assert default_moved_problem(now, "1-29-2") == (
        "the default revision is 1-28-1 and istiod-default-validator points at 1-28-1, not both at 1-29-2")

    moved = with_default_moved(now, "1-29-2")
    assert not is_in_use(in_use_report("1-28-1", moved, namespaces, [], workloads))
    after = in_use_report("1-29-2", moved, namespaces, [], workloads)
    assert ([u["name"] for u in after["namespaces"]], after["tags"], after["default_validator"]) == (
        ["apps", "bookinfo", "shop"], ["default"], True)
    assert (moved.default_revision, moved.tags["default"].configuration) == ("1-29-2", "istio-revision-tag-default")
    assert default_moved_problem(moved, "1-29-2") is None
    assert now.default_revision == "1-28-1" and now.tags["default"].revision == "1-28-1"  # the plane read is unchanged


@pytest.mark.parametrize("labels, expected", [
    ({"istio.io/rev": "prod"}, ("prod", "istio.io/rev=prod")),
    ({"istio.io/rev": "default"}, ("default", "istio.io/rev=default")),
    ({"istio-injection": "enabled"}, ("default", "istio-injection=enabled")),
    # every rev.namespace. webhook requires istio-injection DoesNotExist: istio-injection wins over istio.io/rev
    ({"istio-injection": "enabled", "istio.io/rev": "prod"}, ("default", "istio-injection=enabled")),
    ({"istio-injection": "disabled", "istio.io/rev": "prod"}, (None, None)),
    ({"istio-injection": "disabled"}, (None, None)),
    ({}, (None, None)),
    (None, (None, None)),
])
def test_selected_name(labels, expected):
    assert selected_name(labels) == expected


@pytest.mark.parametrize("labels, tag, using", [
    ({"istio.io/rev": "prod"}, "prod", True),
    ({"istio.io/rev": "prod"}, "default", False),
    ({"istio.io/rev": "1-28-1"}, "prod", False),
    # the tag's webhook never serves a namespace labelled istio-injection (the default revision does, or none)
    ({"istio-injection": "enabled", "istio.io/rev": "prod"}, "prod", False),
    ({"istio-injection": "disabled", "istio.io/rev": "prod"}, "prod", False),
    ({"istio-injection": "enabled", "istio.io/rev": "prod"}, "default", True),
    ({"istio-injection": "enabled"}, "default", True),
    ({"istio.io/rev": "default"}, "default", True),
    ({"istio-injection": "disabled", "istio.io/rev": "default"}, "default", False),
    ({}, "default", False),
])
def test_namespaces_using_a_tag(labels, tag, using):
    assert namespaces_using_tag([ns("shop", labels)], tag) == (["shop"] if using else [])


def test_namespaces_using_a_tag_agrees_with_the_tag_webhook():
    """Who uses a tag is who the tag's webhook injects: checked against the rendered webhook for every label case."""
    config = tag_mwc("prod", "1-28-1")
    for labels in ({"istio.io/rev": "prod"}, {"istio-injection": "enabled", "istio.io/rev": "prod"},
                   {"istio-injection": "disabled", "istio.io/rev": "prod"}, {"istio.io/rev": "other"}, {}):
        served = evaluate_injection([config], "shop", labels).injected
        assert (namespaces_using_tag([ns("shop", labels)], "prod") == ["shop"]) is served, labels


def test_namespaces_using_a_tag_are_sorted():
    namespaces = [ns("b", {"istio.io/rev": "prod"}), ns("a", {"istio.io/rev": "prod"}), ns("c", {"istio.io/rev": "x"})]
    assert namespaces_using_tag(namespaces, "prod") == ["a", "b"]
