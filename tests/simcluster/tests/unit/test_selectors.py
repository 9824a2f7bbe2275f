"""Label and field selectors of the simulated API server."""

from __future__ import annotations

import pytest

from tests.simcluster.errors import ApiError
from tests.simcluster.selectors import (match_label_selector, matches, matches_fields, parse_field_selector,
                                        parse_label_selector, label_selector_to_string)

LABELS = {"app": "web", "tier": "front", "istio.io/rev": "1-29-2", "empty": ""}


@pytest.mark.parametrize("selector, expected", [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=db", False),
    ("app!=db", True),
    ("app!=web", False),
    ("missing!=x", True),
    ("tier in (front,back)", True),
    ("tier in (back)", False),
    ("missing in (a)", False),
    ("tier notin (back)", True),
    ("tier notin (front, back)", False),
    ("missing notin (a)", True),
    ("app", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("empty=", True),
    ("app=web,tier=front", True),
    ("app=web, tier=back", False),
    ("  app = web ,  !missing  ", True),
    ("istio.io/rev=1-29-2", True),
    ("istio.io/rev in (1-28-0, 1-29-2),app", True),
])
def test_label_selector_query_form(selector, expected):
    assert matches(parse_label_selector(selector), LABELS) is expected


@pytest.mark.parametrize("selector", [
    "app=web,", "app in ()", "app in (a", "app in a", "=web", "app=(x)", "!", "app web", "-bad=x", "app=has space",
    "a/b/c=x", "app=" + "x" * 64,
])
def test_invalid_label_selector_is_bad_request(selector):
    with pytest.raises(ApiError) as err:
        parse_label_selector(selector)
    assert err.value.code == 400
    assert err.value.reason == "BadRequest"
    assert "unable to parse requirement" in err.value.message


@pytest.mark.parametrize("selector, labels, expected", [
    (None, {"a": "b"}, True),
    ({}, {}, True),
    ({"matchExpressions": []}, {"a": "b"}, True),
    ({"matchLabels": {"istio-injection": "enabled"}}, {"istio-injection": "enabled"}, True),
    ({"matchLabels": {"istio-injection": "enabled"}}, {}, False),
    ({"matchExpressions": [{"key": "istio.io/rev", "operator": "In", "values": ["canary"]}]}, {"istio.io/rev": "canary"}, True),
    ({"matchExpressions": [{"key": "istio.io/rev", "operator": "In", "values": ["canary"]}]}, {}, False),
    ({"matchExpressions": [{"key": "istio-injection", "operator": "NotIn", "values": ["disabled"]}]}, {}, True),
    ({"matchExpressions": [{"key": "istio-injection", "operator": "NotIn", "values": ["disabled"]}]},
     {"istio-injection": "disabled"}, False),
    ({"matchExpressions": [{"key": "istio.io/rev", "operator": "DoesNotExist"}]}, {"istio.io/rev": "x"}, False),
    ({"matchExpressions": [{"key": "istio.io/rev", "operator": "Exists"}]}, {"istio.io/rev": "x"}, True),
    ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
])
def test_label_selector_dict_form(selector, labels, expected):
    assert match_label_selector(selector, labels) is expected


@pytest.mark.parametrize("expression", [
    {"key": "a", "operator": "In", "values": []},
    {"key": "a", "operator": "Exists", "values": ["x"]},
    {"key": "a", "operator": "Equals", "values": ["x"]},
    {"operator": "Exists"},
])
def test_invalid_label_selector_expression(expression):
    with pytest.raises(ApiError) as err:
        match_label_selector({"matchExpressions": [expression]}, {})
    assert err.value.code == 400


def test_label_selector_to_string_round_trips():
    expressions = [{"key": "tier", "operator": "In", "values": ["b", "a"]}, {"key": "x", "operator": "DoesNotExist"}]
    selector = {"matchLabels": {"app": "web"}, "matchExpressions": expressions}
    text = label_selector_to_string(selector)
    assert text == "app=web,tier in (a,b),!x"
    assert matches(parse_label_selector(text), {"app": "web", "tier": "a"})


POD = {"metadata": {"name": "p1", "namespace": "ns"}, "spec": {"nodeName": "node-1"}, "status": {"phase": "Running"}}


@pytest.mark.parametrize("selector, expected", [
    ("metadata.name=p1", True),
    ("metadata.name==p1", True),
    ("metadata.name!=p1", False),
    ("metadata.namespace=ns,status.phase=Running", True),
    ("status.phase!=Running", False),
    ("spec.nodeName=node-1", True),
    ("spec.nodeName=", False),
])
def test_field_selector(selector, expected):
    assert matches_fields(parse_field_selector(selector, "pods"), POD) is expected


@pytest.mark.parametrize("selector, key, message", [
    ("spec.foo=x", "pods", "field label not supported: spec.foo"),
    ("status.phase=Running", "configmaps", "field label not supported: status.phase"),
    ("metadata.name", "pods", "can't understand 'metadata.name'"),
])
def test_field_selector_errors(selector, key, message):
    with pytest.raises(ApiError) as err:
        parse_field_selector(selector, key)
    assert err.value.code == 400
    assert message in err.value.message
