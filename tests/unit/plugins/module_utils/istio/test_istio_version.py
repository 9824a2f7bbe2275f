"""Version parsing, ordering and skew rules."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import version as v


@pytest.mark.parametrize("text, fields", [
    ("1.29.2", (1, 29, 2, "", "")),
    ("v1.24.3", (1, 24, 3, "", "")),
    ("1.29.0-rc.1", (1, 29, 0, "rc.1", "")),
    ("1.29-dev", (1, 29, None, "dev", "")),
    ("1.29.2-distroless", (1, 29, 2, "", "distroless")),
    ("1.29.0-rc.1-debug", (1, 29, 0, "rc.1", "debug")),
    ("1.30-alpha.0b1c2d3", (1, 30, None, "alpha.0b1c2d3", "")),
])
def test_parse(text, fields):
    parsed = v.parse_version(text)
    assert (parsed.major, parsed.minor, parsed.patch, parsed.prerelease, parsed.variant) == fields
    assert str(parsed) == text


@pytest.mark.parametrize("text", [None, "", "latest", "1", "abc", "sha256:deadbeef", "1.x.2"])
def test_parse_rejects(text):
    assert v.parse_version(text) is None


@pytest.mark.parametrize("image, tag", [
    ("docker.io/istio/proxyv2:1.29.2", "1.29.2"),
    ("localhost:5000/istio/pilot:1.29.2-distroless", "1.29.2-distroless"),
    ("gcr.io/istio-release/pilot:1.28.1@sha256:0123abcd", "1.28.1"),
    ("localhost:5000/istio/pilot", None),
    ("pilot@sha256:0123abcd", None),
    ("auto", None),
    (None, None),
])
def test_image_tag(image, tag):
    assert v.image_tag(image) == tag


@pytest.mark.parametrize("image, version, expected", [
    ("docker.io/istio/pilot:1.28.1", "1.29.2", "docker.io/istio/pilot:1.29.2"),
    ("docker.io/istio/pilot:1.28.1-distroless", "v1.29.2", "docker.io/istio/pilot:1.29.2"),
    ("registry:5000/istio/pilot:1.28.1@sha256:abc", "1.29.2", "registry:5000/istio/pilot:1.29.2"),
    ("registry:5000/istio/pilot", "1.29.2", "registry:5000/istio/pilot:1.29.2"),
    ("docker.io/istio/pilot:1.28.1", None, "docker.io/istio/pilot:1.28.1"),
    (None, "1.29.2", None),
])
def test_with_image_tag(image, version, expected):
    assert v.with_image_tag(image, version) == expected


def test_version_from_image_drops_the_variant_in_release():
    assert v.version_from_image("docker.io/istio/pilot:1.29.2-distroless").release == "1.29.2"


@pytest.mark.parametrize("older, newer", [
    ("1.28.9", "1.29.0"),
    ("1.29.0-rc.1", "1.29.0"),
    ("1.29.0-alpha.1", "1.29.0-beta.0"),
    ("1.29.0-rc.1", "1.29.0-rc.2"),
    ("1.29.0-rc.2", "1.29.0-rc.10"),
    ("1.29-dev", "1.29.0"),
    ("1.9.9", "1.10.0"),
])
def test_ordering(older, newer):
    a, b = v.parse_version(older), v.parse_version(newer)
    assert v.compare(a, b) == -1
    assert v.compare(b, a) == 1


def test_variants_do_not_change_the_order():
    assert v.compare(v.parse_version("1.29.2-distroless"), v.parse_version("1.29.2")) == 0


@pytest.mark.parametrize("current, target, canary, ok", [
    ("1.27.3", "1.28.0", True, True),
    ("1.27.3", "1.29.2", True, True),
    ("1.27.3", "1.30.0", True, False),
    ("1.29.2", "1.27.0", True, True),
    ("1.29.2", "1.26.0", True, False),
    ("1.27.3", "1.28.0", False, True),
    ("1.27.3", "1.29.0", False, False),
    ("1.29.1", "1.29.2", False, True),
    ("1.29.1", "2.0.0", True, False),
])
def test_upgrade_problems(current, target, canary, ok):
    problems = v.upgrade_problems(v.parse_version(current), v.parse_version(target), canary=canary)
    assert (problems == []) is ok


def test_upgrade_problem_names_the_stepping_stone():
    problems = v.upgrade_problems(v.parse_version("1.26.0"), v.parse_version("1.29.2"))
    assert problems == ["a canary move from 1.26.0 to 1.29.2 spans 3 minor versions; at most 2 are supported: go through 1.28 first"]
