"""Parsing label selectors in kubectl's query-string form, checked by evaluating them on labels."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.label_query import SelectorSyntaxError, parse_selector
from ansible_collections.meshops.istio.plugins.module_utils.istio.selector import matches

LABELS = {"app": "web", "tier": "front", "istio.io/rev": "1-29-2", "empty": ""}


@pytest.mark.parametrize("text, expected", [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=db", False),
    ("app!=db", True),
    ("app!=web", False),
    ("zone!=a", True),
    ("istio.io/rev=1-29-2", True),
    ("tier in (front,back)", True),
    ("tier in (back)", False),
    ("tier notin (back, side)", True),
    ("tier notin (front)", False),
    ("zone notin (a)", True),
    ("app", True),
    ("zone", False),
    ("!zone", True),
    ("!app", False),
    ("empty=", True),
    ("app=web,tier in (front),!zone", True),
    (" app = web , !tier ", False),
])
def test_parse_and_match(text, expected):
    assert matches(parse_selector(text), LABELS) is expected


def test_parsed_as_match_expressions():
    assert parse_selector("app=web,tier notin (a,b),x,!y") == {"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["web"]}, {"key": "tier", "operator": "NotIn", "values": ["a", "b"]},
        {"key": "x", "operator": "Exists"}, {"key": "y", "operator": "DoesNotExist"}]}


@pytest.mark.parametrize("text, fragment", [
    ("app=web,", "ends with ','"),
    ("app=web tier=x", "expected ','"),
    ("tier in front", "must be in parentheses"),
    ("tier in (a,b", "missing ')'"),
    ("tier in ()", "is empty"),
    ("app>3", "not a valid label key"),
    ("app=we b", "expected ','"),
    ("-app=web", "not a valid label key"),
    ("app=-web", "not a valid label value"),
    ("app=" + "v" * 64, "not a valid label value"),
    ("!", "not a valid label key"),
    ("tier within (a)", "unknown operator 'within'"),
])
def test_malformed(text, fragment):
    with pytest.raises(SelectorSyntaxError) as error:
        parse_selector(text)
    assert fragment in str(error.value)
    assert repr(text) in str(error.value)
