"""Checking the revision or tag that namespaces are pointed at."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import discover
from ansible_collections.meshops.istio.plugins.module_utils.istio.target_revision import Target, resolve_target

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
