"""Which revision a request names, and what state=present does for the revision found."""

from __future__ import annotations

import pytest

from istio_objects import istiod_deployment
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import istiod_revision
from ansible_collections.meshops.istio.plugins.module_utils.istio.lifecycle import present_action, requested_revision, same_release


@pytest.mark.parametrize("revision, version, expected", [
    (None, "1.29.2", ("1-29-2", [])),
    (None, "v1.29.0-rc.1", ("1-29-0-rc-1", [])),
    ("canary", "1.29.2", ("canary", [])),
    ("canary", None, ("canary", [])),
    (None, None, (None, ["give revision or version"])),
])
def test_requested_revision(revision, version, expected):
    assert requested_revision(revision, version) == expected


@pytest.mark.parametrize("revision, version, fragment", [
    ("1.29.2", None, "not a DNS-1123 label"),
    ("Canary", None, "not a DNS-1123 label"),
    ("-x", None, "not a DNS-1123 label"),
    ("r" * 57, None, "at most 56"),
    ("canary", "latest", "not an Istio version"),
])
def test_requested_revision_problems(revision, version, fragment):
    problems = requested_revision(revision, version)[1]
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize("left, right, expected", [
    ("1.29.2", "v1.29.2", True), ("1.29.2", "1.29.2-distroless", True), ("1.29.2", "1.29.3", False),
    (None, "1.29.2", False), ("latest", "latest", False),
])
def test_same_release(left, right, expected):
    assert same_release(left, right) is expected


RUNNING = istiod_revision(istiod_deployment("1-29-2", "1.29.2"))
NOT_READY = istiod_revision(istiod_deployment("1-29-2", "1.29.2", ready=0))


@pytest.mark.parametrize("current, version, allow_in_place, changed_input, expected", [
    (None, "1.29.2", False, False, "install"),
    (None, None, False, False, "install"),
    (RUNNING, "1.29.2", False, False, "none"),
    (RUNNING, None, False, False, "none"),
    (NOT_READY, "1.29.2", False, False, "none"),
    (RUNNING, "1.29.2", False, True, "reapply"),
    (RUNNING, "1.29.3", True, False, "in_place"),
    (RUNNING, "1.29.3", True, True, "in_place"),
])
def test_present_action(current, version, allow_in_place, changed_input, expected):
    assert present_action(current, version, allow_in_place, changed_input) == (expected, None)


def test_other_version_under_the_name_needs_allow_in_place():
    action, problem = present_action(RUNNING, "1.29.3", allow_in_place=False)
    assert action == "none"
    assert problem == ("revision 1-29-2 already runs version 1.29.2 (istio-system/istiod-1-29-2), not 1.29.3: install "
                       "1.29.3 under a new revision name (the canary way), or set allow_in_place=true to change it in place")
