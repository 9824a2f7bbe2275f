"""Resolving the revision or tag a module is given (to point workloads at, or to audit against), and whether new
pods reach it."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import discover
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import Target, reaches_target, resolve_target
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import evaluate_injection

from istio_objects import istiod_deployment, revision_mwc, tag_mwc

PLANE = discover(
    [istiod_deployment("1-28-1", "1.28.1"), istiod_deployment("1-29-2", "1.29.2", ready=0)],
    [revision_mwc("1-28-1"), revision_mwc("1-29-2"), tag_mwc("default", "1-28-1"), tag_mwc("stable", "1-28-1"),
     tag_mwc("next", "1-29-2"), tag_mwc("gone", "1-27-0")],
    [],
)
INVENTORY = "revisions installed: 1-28-1 (ready), 1-29-2 (not ready); tags: default -> 1-28-1, gone -> 1-27-0, next -> 1-29-2, stable -> 1-28-1"


@pytest.mark.parametrize("name, target", [
    ("1-28-1", Target("1-28-1", "1-28-1", None)),
    ("stable", Target("stable", "1-28-1", "stable")),
    ("default", Target("default", "1-28-1", "default")),
])
def test_usable(name, target):
    assert resolve_target(PLANE, name) == (target, [])


@pytest.mark.parametrize("name, problem", [
    ("1.29.2", "revision '1.29.2' is not a DNS-1123 label"),
    ("1-30-0", "revision or tag '1-30-0' not found; %s. Install that revision first, or use one of these" % INVENTORY),
    ("gone", "tag 'gone' points at revision 1-27-0, which has no istiod Deployment; %s" % INVENTORY),
    ("1-29-2", "revision 1-29-2 (Deployment istio-system/istiod-1-29-2) is not ready: 0 of 1 replicas ready"),
    ("next", "revision 1-29-2 (Deployment istio-system/istiod-1-29-2) is not ready: 0 of 1 replicas ready"),
])
def test_refused(name, problem):
    target, problems = resolve_target(PLANE, name)
    assert target is None and len(problems) == 1
    assert problems[0].startswith(problem)


@pytest.mark.parametrize("name, target", [
    ("1-28-1", Target("1-28-1", "1-28-1", None)),
    # an audit compares pods with a revision that need not be ready, nor have an istiod any more
    ("1-29-2", Target("1-29-2", "1-29-2", None)),
    ("next", Target("next", "1-29-2", "next")),
    ("gone", Target("gone", "1-27-0", "gone")),
    ("default", Target("default", "1-28-1", "default")),
])
def test_audit_targets_need_not_be_ready(name, target):
    assert resolve_target(PLANE, name, require_ready=False) == (target, [])


def test_audit_target_not_found_names_what_is_installed():
    assert resolve_target(PLANE, "9-9-9", require_ready=False) == (None, [
        "revision '9-9-9' is neither an installed revision (1-28-1, 1-29-2) nor a revision tag (default, gone, next, "
        "stable): install it first, or give one of these"])
    assert resolve_target(PLANE, "1.29.2", require_ready=False)[1][0].startswith("revision '1.29.2' is not a DNS-1123 label")


MUTATING = [revision_mwc("1-28-1"), revision_mwc("1-29-2"), tag_mwc("default", "1-28-1"), tag_mwc("next", "1-29-2")]


@pytest.mark.parametrize("ns_labels, pod_labels, target, reached", [
    ({"istio.io/rev": "1-29-2"}, {}, Target("1-29-2", "1-29-2", None), True),
    # a tag reaches the revision it points at
    ({"istio.io/rev": "next"}, {}, Target("next", "1-29-2", "next"), True),
    ({"istio.io/rev": "next"}, {}, Target("1-29-2", "1-29-2", None), True),
    ({"istio.io/rev": "1-28-1"}, {}, Target("1-29-2", "1-29-2", None), False),
    # istio-injection wins: the default revision injects
    ({"istio-injection": "enabled", "istio.io/rev": "1-29-2"}, {}, Target("1-29-2", "1-29-2", None), False),
    ({"istio-injection": "enabled"}, {}, Target("default", "1-28-1", "default"), True),
    ({"istio-injection": "disabled"}, {"istio.io/rev": "1-29-2"}, Target("1-29-2", "1-29-2", None), False),
    ({}, {"istio.io/rev": "1-29-2"}, Target("1-29-2", "1-29-2", None), True),
    # the pod's inject=false stops every injector
    ({"istio.io/rev": "1-29-2"}, {"sidecar.istio.io/inject": "false"}, Target("1-29-2", "1-29-2", None), False),
    ({}, {}, Target("1-29-2", "1-29-2", None), False),
])
def test_reaches_target(ns_labels, pod_labels, target, reached):
    assert reaches_target(evaluate_injection(MUTATING, "shop", ns_labels, pod_labels), target) is reached
