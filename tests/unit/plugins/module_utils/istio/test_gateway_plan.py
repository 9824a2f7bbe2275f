"""gateway_revision's decisions: option problems, the gateways chosen, the writes planned for a gateway and its canary,
the revisions their new pods get, and the refusal when the target would not be reached."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import gateway_plan as P
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import Target

from istio_objects import revision_mwc, tag_mwc

NS = "istio-ingress"
GW = "istio-ingressgateway"
OLD, NEW = "1-28-1", "1-29-2"
MUTATING = [revision_mwc(OLD), revision_mwc(NEW), tag_mwc("default", OLD), tag_mwc("stable", NEW)]
TO_NEW = Target(NEW, NEW, None)


def params(**given):
    """gateway_revision's options with their defaults."""
    base = {"names": [GW], "namespace": NS, "selector": None, "revision": NEW, "strategy": "in_place", "action": "start",
            "canary_replicas": None, "wait": True, "wait_timeout": 300}
    base.update(given)
    return base


def deployment(name=GW, rev_label=OLD, canary_of=None, replicas=2, image="auto", namespace=NS):
    """An injected gateway Deployment (istio/gateway chart) whose pod template carries ``istio.io/rev``; with a real
    proxy ``image``, a Deployment whose proxy is written in its template (not a gateway the module can move)."""
    pod_labels = {"app": GW, "istio": "ingressgateway", "sidecar.istio.io/inject": "true"}
    if rev_label:
        pod_labels["istio.io/rev"] = rev_label
    meta = {"name": name, "namespace": namespace, "labels": {"app": GW}}
    if canary_of:
        meta["annotations"] = {"meshops.istio/canary-of": canary_of}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": GW}},
                     "template": {"metadata": {"labels": pod_labels,
                                               "annotations": {"inject.istio.io/templates": "gateway"} if image == "auto" else {}},
                                  "spec": {"containers": [{"name": "istio-proxy", "image": image}]}}}}


def by_key(*deployments):
    return {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in deployments}


@pytest.mark.parametrize("given, fragments", [
    ({}, []),
    ({"namespace": None}, ["names needs namespace: give the namespace of the gateways istio-ingressgateway"]),
    ({"names": []}, ["names is empty"]),
    ({"names": None, "selector": [" "]}, ["selector is empty"]),
    ({"action": "promote"}, ["action=promote only applies to strategy=canary"]),
    ({"canary_replicas": 2}, ["canary_replicas only applies to strategy=canary with action=start"]),
    ({"strategy": "canary", "canary_replicas": 0}, ["canary_replicas must be at least 1 (to remove the canary use action=abort), not 0"]),
    ({"revision": None}, ["revision is required with action=start"]),
    ({"strategy": "canary", "action": "abort", "revision": None}, []),
    ({"wait_timeout": -1}, ["wait_timeout must be 0 or more seconds, not -1"]),
])
def test_option_problems(given, fragments):
    problems = P.option_problems(params(**given))
    assert len(problems) == len(fragments) and all(f in p for f, p in zip(fragments, problems)), problems


def test_select_by_name_refuses_missing_canaries_and_gateways_not_injected():
    found = [deployment(), deployment(GW + "-canary", NEW, canary_of=GW), deployment("static", image="docker.io/istio/proxyv2:1.28.1")]
    chosen, keys, problems = P.select_gateways(found, params(names=["nope", GW + "-canary", GW, "static"]))
    assert [d["metadata"]["name"] for d in chosen] == [GW, "static"] and len(keys) == 3
    # names are taken in sorted order
    assert problems[0].startswith("Deployment istio-ingress/istio-ingressgateway-canary is the canary of gateway istio-ingressgateway")
    assert problems[1] == "gateway Deployment istio-ingress/nope not found; check the name and namespace"
    assert problems[2].startswith("Deployment istio-ingress/static cannot be moved: its istio-proxy image")
    assert len(problems) == 3


def test_select_by_selector_skips_canaries_and_sorts():
    found = [deployment("b"), deployment("b-canary", canary_of="b"), deployment("a", namespace="other")]
    chosen, _keys, problems = P.select_gateways(found, params(names=None, namespace=None, selector=["app=x"]))
    assert [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in chosen] == [(NS, "b"), ("other", "a")]
    assert problems == []
    assert P.select_gateways([deployment("b-canary", canary_of="b")], params(names=None, selector=["app=x"]))[2] == [
        "no Deployment matches the selector app=x in namespace istio-ingress; check the selector with kubectl get deployments -l"]


@pytest.mark.parametrize("given, existing, main_patched, canary_op, problem", [
    # in place: the pod template's istio.io/rev changes; already there: nothing to write
    ({}, [], True, None, None),
    ({"revision": OLD}, [], False, None, None),
    # canary start: created, then patched only when it differs
    ({"strategy": "canary"}, [], False, "create", None),
    ({"strategy": "canary"}, [deployment(GW + "-canary", NEW, canary_of=GW, replicas=1)], False, None, None),
    ({"strategy": "canary", "canary_replicas": 3}, [deployment(GW + "-canary", NEW, canary_of=GW, replicas=1)], False, "patch", None),
    # a Deployment named like the canary that is not ours blocks start
    ({"strategy": "canary"}, [deployment(GW + "-canary", NEW)], False, None, "exists but was not made by this module"),
    # promote: the gateway moves and the canary goes, unless it runs another revision
    ({"strategy": "canary", "action": "promote"}, [deployment(GW + "-canary", NEW, canary_of=GW)], True, "delete", None),
    ({"strategy": "canary", "action": "promote"}, [deployment(GW + "-canary", "other", canary_of=GW)], True, "delete",
     "the canary istio-ingress/istio-ingressgateway-canary runs istio.io/rev=other, not 1-29-2"),
    ({"strategy": "canary", "action": "abort", "revision": None}, [deployment(GW + "-canary", NEW, canary_of=GW)], False,
     "delete", None),
    ({"strategy": "canary", "action": "abort", "revision": None}, [], False, None, None),
])
def test_plan_gateway(given, existing, main_patched, canary_op, problem):
    gateway = deployment()
    options = params(**given)
    warnings = []
    change, problems = P.plan_gateway(gateway, by_key(gateway, *existing), options, options["revision"], warnings)
    assert (change.main_patch is not None, change.canary_op) == (main_patched, canary_op)
    assert (problems[0] if problems else None) is None if problem is None else problem in problems[0]
    if main_patched:
        assert change.main_patch == {"spec": {"template": {"metadata": {"labels": {"istio.io/rev": NEW}}}}}


def test_plan_warns_about_a_foreign_canary_and_a_leftover_one():
    gateway = deployment()
    warnings = []
    P.plan_gateway(gateway, by_key(gateway, deployment(GW + "-canary")), params(strategy="canary", action="abort"), None, warnings)
    P.plan_gateway(gateway, by_key(gateway, deployment(GW + "-canary", canary_of=GW)), params(), NEW, warnings)
    assert warnings[0].endswith("(no annotation meshops.istio/canary-of=istio-ingressgateway); it was left alone")
    assert warnings[1] == ("istio-ingress/istio-ingressgateway: its canary istio-ingressgateway-canary still exists; remove "
                           "it with strategy=canary action=abort")


@pytest.mark.parametrize("ns_labels, given, after, problem", [
    ({}, {}, NEW, None),
    # a tag is written as given and reaches the revision it points at
    ({}, {"revision": "stable"}, NEW, None),
    # the namespace's labels take precedence over the pod's istio.io/rev
    ({"istio.io/rev": OLD}, {}, OLD, "new pods would be injected by revision 1-28-1, not by revision 1-29-2"),
    ({"istio-injection": "enabled"}, {}, OLD, "The namespace istio-ingress is labelled istio-injection=enabled"),
    ({"istio-injection": "disabled"}, {}, None, "new pods would get no proxy, not by revision 1-29-2"),
])
def test_describe_gateway_checks_new_pods_reach_the_target(ns_labels, given, after, problem):
    gateway = deployment()
    options = params(**given)
    target = Target(options["revision"], NEW, "stable" if options["revision"] == "stable" else None)
    change = P.plan_gateway(gateway, by_key(gateway), options, target.name, [])[0]
    problems = P.describe_gateway(change, options, MUTATING, {NS: ns_labels}, target, [])
    assert change.result["after"] == after and change.result["label_after"] == target.name
    assert change.result["before"] == (OLD if not ns_labels.get("istio-injection") == "disabled" else None)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_describe_canary_start_checks_the_canary():
    gateway = deployment()
    options = params(strategy="canary")
    change = P.plan_gateway(gateway, by_key(gateway), options, NEW, [])[0]
    assert P.describe_gateway(change, options, MUTATING, {NS: {}}, TO_NEW, []) == []
    assert change.result["before"] == change.result["after"] == OLD
    assert change.result["canary"] == {"name": GW + "-canary", "before": None, "after": NEW, "replicas": 1}
    problems = P.describe_gateway(change, options, MUTATING, {NS: {"istio.io/rev": OLD}}, TO_NEW, [])
    assert len(problems) == 1 and problems[0].startswith("istio-ingress/istio-ingressgateway-canary: new pods would be "
                                                         "injected by revision 1-28-1")


def test_plan_gateways_abort_and_diff():
    gateway, canary = deployment(), deployment(GW + "-canary", NEW, canary_of=GW, replicas=1)
    options = params(strategy="canary", action="abort", revision=None)
    changes, problems, warnings = P.plan_gateways([gateway], by_key(gateway, canary), options, None, MUTATING, {NS: {}})
    assert (problems, warnings) == ([], [])
    assert changes[0].result["canary"] == {"name": GW + "-canary", "before": NEW, "after": None, "replicas": None}
    key = "%s/%s" % (NS, GW)
    assert P.diff_state(changes[0], after=False) == {
        key: {"pod_labels": {"istio.io/rev": OLD, "sidecar.istio.io/inject": "true"}, "replicas": 2},
        key + "-canary": {"pod_labels": {"istio.io/rev": NEW, "sidecar.istio.io/inject": "true"}, "replicas": 1}}
    assert P.diff_state(changes[0], after=True) == {
        key: {"pod_labels": {"istio.io/rev": OLD, "sidecar.istio.io/inject": "true"}, "replicas": 2}}


def test_plan_gateways_collects_every_problem():
    gateways = [deployment("a"), deployment("b")]
    changes, problems, warnings = P.plan_gateways(gateways, by_key(*gateways), params(names=["a", "b"]), TO_NEW,
                                                  MUTATING, {NS: {"istio.io/rev": OLD}})
    assert warnings == []
    assert len(changes) == 2 and [p.split(":")[0] for p in problems] == ["istio-ingress/a", "istio-ingress/b"]
