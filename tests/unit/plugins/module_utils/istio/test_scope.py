"""The namespace scope rules, table-driven: which namespaces are in scope, which are skipped and why."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.scope import (
    ScopeOptions,
    scope_problems,
    select_namespaces,
)


def ns(name, labels=None, phase=None):
    obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels or {})}}
    if phase:
        obj["status"] = {"phase": phase}
    return obj


NAMESPACES = [
    ns("default"),
    ns("kube-system", {"istio.io/rev": "1-29-2"}),
    ns("istio-system"),
    ns("bookinfo", {"istio-injection": "enabled", "team": "books"}),
    ns("shop", {"istio.io/rev": "1-28-1", "team": "shop"}),
    ns("payments", {"istio-injection": "enabled", "istio.io/rev": "1-28-1", "team": "shop"}),
    ns("legacy", {"istio-injection": "disabled", "team": "shop"}),
    ns("tagged", {"istio.io/rev": "prod-stable"}),
    ns("leaving", {"istio.io/rev": "1-28-1"}, phase="Terminating"),
    ns("plain", {"team": "books"}),
]


def run(**options):
    return select_namespaces(NAMESPACES, ScopeOptions(**options))


@pytest.mark.parametrize("options, in_scope, skipped", [
    ({"all_injected": True}, ["bookinfo", "payments", "shop", "tagged"],
     {"kube-system": "system", "legacy": "disabled", "leaving": "terminating"}),
    ({"all_injected": True, "exclude": ("shop", "nowhere")}, ["bookinfo", "payments", "tagged"],
     {"kube-system": "system", "legacy": "disabled", "leaving": "terminating", "shop": "excluded"}),
    ({"all_injected": True, "namespace_selector": "team=shop"}, ["payments", "shop"], {"legacy": "disabled"}),
    ({"namespace_selector": "team"}, ["bookinfo", "payments", "plain", "shop"], {"legacy": "disabled"}),
    ({"namespace_selector": "team=books,!istio-injection"}, ["plain"], {}),
    ({"namespace_selector": "istio.io/rev in (1-28-1, 1-29-2)"}, ["payments", "shop"],
     {"kube-system": "system", "leaving": "terminating"}),
    # named explicitly: taken as they are, system and disabled namespaces included
    ({"namespaces": ("legacy", "kube-system", "shop", "leaving")}, ["kube-system", "leaving", "legacy", "shop"], {}),
    ({"namespaces": ("shop", "legacy"), "exclude": ("legacy",)}, ["shop"], {"legacy": "excluded"}),
    ({"namespaces": ()}, [], {}),
])
def test_select(options, in_scope, skipped):
    scope = run(**options)
    assert scope.names == in_scope
    assert {item["name"]: item["reason"] for item in scope.skipped} == skipped
    assert all(item["message"] for item in scope.skipped)
    assert scope.not_found == []


def test_names_not_found_are_reported_not_excluded_ones():
    scope = run(namespaces=("shop", "ghost", "gone"), exclude=("gone",))
    assert scope.names == ["shop"]
    assert scope.not_found == ["ghost"]
    assert scope.as_dict() == {"namespaces_in_scope": ["shop"], "namespaces_skipped": [], "namespaces_not_found": ["ghost"]}


def test_selector_already_applied_by_the_server_gives_the_same_result():
    narrowed = [n for n in NAMESPACES if n["metadata"]["labels"].get("team") == "shop"]
    options = ScopeOptions(namespace_selector="team=shop")
    assert select_namespaces(narrowed, options).names == select_namespaces(NAMESPACES, options).names == ["payments", "shop"]


@pytest.mark.parametrize("params, selector, server_selector", [
    ({"namespace_selector": ["team=shop", "env in (a,b)"]}, "team=shop,env in (a,b)", "team=shop,env in (a,b)"),
    # Ansible splits a comma-separated string given to a list option; joining restores it
    ({"namespace_selector": ["env in (a", "b)"]}, "env in (a,b)", "env in (a,b)"),
    ({"namespace_selector": [], "all_injected": True}, None, None),
    ({"namespaces": ["a"], "namespace_selector": ["x=y"]}, "x=y", None),
])
def test_options_from_params(params, selector, server_selector):
    options = ScopeOptions.from_params(params)
    assert options.namespace_selector == selector
    assert options.server_selector == server_selector


@pytest.mark.parametrize("options, fragments", [
    ({}, ["no namespaces chosen"]),
    ({"exclude": ("a",)}, ["no namespaces chosen"]),
    ({"namespaces": ("a",), "namespace_selector": "x=y"}, ["namespaces and namespace_selector are mutually exclusive"]),
    ({"namespaces": ("a",), "all_injected": True}, ["namespaces and all_injected are mutually exclusive"]),
    ({"namespaces": ("a",), "namespace_selector": "x", "all_injected": True},
     ["namespace_selector are mutually exclusive", "all_injected are mutually exclusive"]),
    ({"namespaces": ("Shop", "ok", "a.b")}, ["namespaces: 'Shop', 'a.b' are not a valid namespace name"]),
    ({"all_injected": True, "exclude": ("x" * 64,)}, ["exclude: '%s' is not a valid namespace name" % ("x" * 64)]),
    ({"namespace_selector": "team in shop"}, ["namespace_selector: label selector 'team in shop'"]),
])
def test_problems(options, fragments):
    problems = scope_problems(ScopeOptions(**options))
    assert len(problems) == len(fragments)
    for problem, fragment in zip(problems, fragments):
        assert fragment in problem


@pytest.mark.parametrize("options", [
    {"namespaces": ("a",)},
    {"namespaces": ()},
    {"all_injected": True},
    {"namespace_selector": "a=b"},
    {"namespace_selector": "a=b", "all_injected": True, "exclude": ("c",)},
])
def test_no_problems(options):
    assert scope_problems(ScopeOptions(**options)) == []


def test_select_refuses_bad_options():
    with pytest.raises(ValueError, match="mutually exclusive"):
        run(namespaces=("a",), all_injected=True)
