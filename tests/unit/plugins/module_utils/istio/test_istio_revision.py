"""Revision names: validation, revision from version, object names per revision."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev


@pytest.mark.parametrize("name", ["", "default", "canary", "1-29-2", "a", "a" * 56, "v1-24-3", "0abc9"])
def test_valid_revisions(name):
    assert rev.revision_problems(name) == []


@pytest.mark.parametrize("name, fragment", [
    ("1.29.2", "not a DNS-1123 label"),
    ("Canary", "not a DNS-1123 label"),
    ("-canary", "not a DNS-1123 label"),
    ("canary-", "not a DNS-1123 label"),
    ("can_ary", "not a DNS-1123 label"),
    ("a" * 57, "at most 56"),
])
def test_invalid_revisions(name, fragment):
    problems = rev.revision_problems(name)
    assert problems and any(fragment in p for p in problems)


@pytest.mark.parametrize("version, prefix, expected", [
    ("1.29.2", "", "1-29-2"),
    ("v1.24.3", "", "1-24-3"),
    ("1.29.0-rc.1", "", "1-29-0-rc-1"),
    ("1.29.2-distroless", "", "1-29-2"),  # the image variant is not part of the release
    ("v1.29.0-rc.1-debug", "", "1-29-0-rc-1"),
    ("1.24.3", "istio", "istio-1-24-3"),
])
def test_revision_from_version(version, prefix, expected):
    assert rev.revision_from_version(version, prefix) == expected


def test_revision_from_version_rejects_what_cannot_be_a_revision():
    with pytest.raises(ValueError, match="empty revision"):
        rev.revision_from_version("...")
    with pytest.raises(ValueError, match="at most 56"):
        rev.revision_from_version("1.29.2", prefix="p" * 60)


@pytest.mark.parametrize("func, args, expected", [
    (rev.istiod_name, ("1-29-2",), "istiod-1-29-2"),
    (rev.istiod_name, ("",), "istiod"),
    (rev.istiod_name, ("default",), "istiod"),
    (rev.injector_webhook_name, ("canary",), "istio-sidecar-injector-canary"),
    (rev.injector_webhook_name, (None,), "istio-sidecar-injector"),
    (rev.injector_webhook_name, ("canary", "istio-control"), "istio-sidecar-injector-canary-istio-control"),
    (rev.injector_webhook_name, ("", "istio-control"), "istio-sidecar-injector-istio-control"),
    (rev.validator_webhook_name, ("canary",), "istio-validator-canary-istio-system"),
    (rev.validator_webhook_name, ("",), "istio-validator-istio-system"),
    (rev.validator_webhook_name, ("canary", "istio-control"), "istio-validator-canary-istio-control"),
    (rev.tag_webhook_name, ("prod",), "istio-revision-tag-prod"),
    (rev.tag_webhook_name, ("prod", "istio-control"), "istio-revision-tag-prod-istio-control"),
    (rev.tag_service_name, ("prod",), "istiod-revision-tag-prod"),
])
def test_object_names(func, args, expected):
    assert func(*args) == expected


def test_canonical_spelling_of_the_default_revision():
    assert rev.canonical("") == "default"
    assert rev.canonical(None) == "default"
    assert rev.canonical("canary") == "canary"
