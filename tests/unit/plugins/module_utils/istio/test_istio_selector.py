"""LabelSelector evaluation as the API server does it."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.selector import matches

LABELS = {"app": "web", "tier": "front", "istio.io/rev": "canary"}


@pytest.mark.parametrize("selector, expected", [
    (None, True),
    ({}, True),
    ({"matchLabels": {"app": "web"}}, True),
    ({"matchLabels": {"app": "web", "tier": "back"}}, False),
    ({"matchLabels": {"missing": ""}}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["back"]}]}, False),
    ({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, False),
    ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
    ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
    ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
    ({"matchLabels": {"app": "web"},
      "matchExpressions": [{"key": "istio-injection", "operator": "DoesNotExist"},
                           {"key": "istio.io/rev", "operator": "In", "values": ["canary"]}]}, True),
    ({"matchLabels": {"istio.io/deactivated": "never-match"}}, False),
])
def test_matches(selector, expected):
    assert matches(selector, LABELS) is expected


def test_no_labels_at_all():
    assert matches({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}, None) is True
    assert matches({"matchLabels": {"a": "x"}}, None) is False


@pytest.mark.parametrize("expression, fragment", [
    ({"key": "a", "operator": "Near", "values": ["x"]}, "unknown operator"),
    ({"key": "a", "operator": "In", "values": []}, "needs at least one value"),
    ({"key": "a", "operator": "Exists", "values": ["x"]}, "takes no values"),
    ({"operator": "Exists"}, "has no key"),
])
def test_malformed_selectors_are_refused(expression, fragment):
    with pytest.raises(ValueError, match=fragment):
        matches({"matchExpressions": [expression]}, LABELS)
