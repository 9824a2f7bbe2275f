"""The role's variables: every rule of role_inputs, as a table; and the same variables in defaults, specs and rules."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.meshops.istio.plugins.module_utils.istio import role_inputs

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "..", "roles", "istio")


def defaults() -> dict:
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_defaults_pass_and_every_variable_has_a_rule_and_a_spec_at_every_entry_point():
    values = defaults()
    assert sorted(values) == list(role_inputs.VARIABLES)
    assert role_inputs.input_problems(values) == []
    with open(os.path.join(ROLE, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    for entry_point, spec in specs.items():
        assert sorted(spec["options"]) == list(role_inputs.VARIABLES), entry_point
        for name, option in spec["options"].items():
            assert option["default"] == values[name], (entry_point, name)
            if name in role_inputs.CHOICES:
                assert tuple(option["choices"]) == role_inputs.CHOICES[name], name


def test_role_constants_are_not_options():
    """vars/main.yml holds the role's constants only: internal names (istio__), none of them a variable a user sets,
    none of them an old name of a renamed variable."""
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        constants = yaml.safe_load(handle)
    assert constants and all(name.startswith("istio__") for name in constants), sorted(constants)
    assert not set(constants) & (set(role_inputs.VARIABLES) | set(role_inputs.RENAMED))


def test_renamed_variables_are_refused_with_their_new_name():
    assert set(role_inputs.RENAMED.values()) <= set(role_inputs.VARIABLES)
    assert not set(role_inputs.RENAMED) & set(role_inputs.VARIABLES)
    assert role_inputs.renamed_problems(["istio_target_version", "istio_namespace", "istio_k8s_auth"]) == [
        "istio_namespace was renamed istio_control_plane_namespace: set istio_control_plane_namespace instead and remove "
        "istio_namespace (with the old name alone, istio_control_plane_namespace would silently take its default)"]
    problems = role_inputs.renamed_problems(["istio_operator_file", "istio_namespaces", "istio_operator"])
    assert [problem.split(" was renamed ")[0] for problem in problems] == ["istio_namespaces", "istio_operator", "istio_operator_file"]
    assert "istio_data_plane_namespaces" in problems[0] and "istio_record_operator" in problems[1]
    assert "istio_istioctl_operator_file" in problems[2]
    assert role_inputs.renamed_problems(role_inputs.VARIABLES) == []
    assert role_inputs.renamed_problems(None) == []


def test_renamed_variables_with_values_are_accepted_when_they_agree_with_the_new_name():
    values = {"istio_control_plane_namespace": "istio-system", "istio_data_plane_namespaces": []}
    assert role_inputs.renamed_problems({"istio_namespace": "istio-system"}, values) == []
    assert role_inputs.renamed_problems({"istio_namespaces": []}, values) == []
    problems = role_inputs.renamed_problems({"istio_namespace": "mesh", "istio_namespaces": ["bookinfo"]}, values)
    assert problems == [
        "istio_namespace is 'mesh', but this role reads istio_control_plane_namespace ('istio-system'); istio_namespace is "
        "its old name. Set istio_control_plane_namespace to the value meant and remove istio_namespace (if another role "
        "needs istio_namespace, give it that role's vars only)",
        "istio_namespaces is ['bookinfo'], but this role reads istio_data_plane_namespaces ([]); istio_namespaces is its "
        "old name. Set istio_data_plane_namespaces to the value meant and remove istio_namespaces (if another role needs "
        "istio_namespaces, give it that role's vars only)"]
    # a value the role does not know for the new name is never taken as agreeing
    assert len(role_inputs.renamed_problems({"istio_operator": None}, {})) == 1


def test_role_lists_the_same_renamed_variables():
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        constants = yaml.safe_load(handle)
    assert sorted(constants["istio__renamed_variables"]) == sorted(role_inputs.RENAMED)


@pytest.mark.parametrize("name, value, fragments", [
    ("istio_restart_batch_size", 0, ["istio_restart_batch_size is 0", "at least 1"]),
    ("istio_restart_batch_size", "-1", ["istio_restart_batch_size is -1", "at least 1"]),
    ("istio_restart_batch_size", 2.5, ["istio_restart_batch_size is 2.5", "a whole number"]),
    ("istio_restart_batch_size", True, ["istio_restart_batch_size is True", "a whole number"]),
    ("istio_restart_wait_timeout", -5, ["istio_restart_wait_timeout is -5", "at least 1"]),
    ("istio_gateway_wait_timeout", -1, ["istio_gateway_wait_timeout is -1", "0 or more"]),
    ("istio_control_plane_wait_timeout", "soon", ["istio_control_plane_wait_timeout is 'soon'", "a whole number"]),
    ("istio_restart_pause", -0.5, ["istio_restart_pause is -0.5", "0 or more"]),
    ("istio_restart_poll_interval", 0, ["istio_restart_poll_interval is 0", "more than 0"]),
    ("istio_gateway_canary_replicas", 0, ["istio_gateway_canary_replicas is 0", "at least 1"]),
    ("istio_restart_policy", "sometimes", ["istio_restart_policy is 'sometimes'", "waves, none"]),
    ("istio_gateway_strategy", "blue_green", ["istio_gateway_strategy is 'blue_green'", "in_place, canary"]),
    ("istio_installer", "kubectl", ["istio_installer is 'kubectl'", "manifest, helm, istioctl"]),
    ("istio_source_installer", "apt", ["istio_source_installer is 'apt'", "'', manifest"]),
    ("istio_exclude_namespaces", 5, ["istio_exclude_namespaces is 5 (a number)", "give a list", '["payments"]']),
    ("istio_data_plane_namespaces", "bookinfo", ["istio_data_plane_namespaces is 'bookinfo' (a string)", "give a list"]),
    ("istio_data_plane_namespaces", ["Book_Info"], ["istio_data_plane_namespaces holds 'Book_Info'", "not a namespace name"]),
    ("istio_data_plane_namespaces", [7], ["istio_data_plane_namespaces holds 7", "non-empty string"]),
    ("istio_namespace_selector", ["env in (prod"], ["istio_namespace_selector: label selector 'env in (prod'", "missing ')'"]),
    ("istio_gateway_selector", ["app in prod"], ["istio_gateway_selector: label selector 'app in prod'", "parentheses"]),
    ("istio_gateways", {"name": "gw"}, ["istio_gateways is", "(a mapping)", "give a list"]),
    ("istio_gateways", [{"name": "gw"}], ["istio_gateways[0]", "has no namespace"]),
    ("istio_gateways", ["gw"], ["istio_gateways[0] is 'gw'", "a mapping with name and namespace"]),
    ("istio_gateways", [{"name": "gw", "namespace": "ns", "namspace": "x"}], ["istio_gateways[0] has the unknown key namspace"]),
    ("istio_gateways", [{"name": "", "namespace": "ns"}], ["istio_gateways[0].name is ''"]),
    ("istio_target_version", "v1.28.1", ["istio_target_version is 'v1.28.1'", "such as 1.28.1", "no leading 'v'"]),
    ("istio_target_version", "1.28", ["istio_target_version is '1.28'", "major.minor.patch"]),
    ("istio_target_version", 1.28, ["istio_target_version is '1.28'", "major.minor.patch"]),
    ("istio_target_version", "latest", ["istio_target_version is 'latest'"]),
    ("istio_target_revision", "1.28.1", ["istio_target_revision: revision '1.28.1' is not a DNS-1123 label"]),
    ("istio_source_revision", 127, ["istio_source_revision is 127 (a number)", "as a string"]),
    ("istio_control_plane_namespace", "Istio System", ["istio_control_plane_namespace is 'Istio System'", "Kubernetes name"]),
    ("istio_helm_values", ["a"], ["istio_helm_values is ['a'] (a list)", "mapping"]),
    ("istio_upgrade_finalize", "maybe", ["istio_upgrade_finalize is 'maybe'", "true or false"]),
])
def test_each_bad_value_is_named_with_what_to_give(name, value, fragments):
    problems = role_inputs.input_problems(dict(defaults(), **{name: value}))
    assert len(problems) == 1, problems
    assert all(fragment in problems[0] for fragment in fragments), problems[0]


@pytest.mark.parametrize("name, value", [
    ("istio_restart_batch_size", "3"), ("istio_restart_pause", "0.5"), ("istio_gateway_wait_timeout", 0),
    ("istio_target_version", "1.29.2-distroless"), ("istio_target_version", "1.29.0-rc.1"), ("istio_target_version", ""),
    ("istio_namespace_selector", ["env=prod", "tier in (a,b)", "!legacy"]), ("istio_upgrade_finalize", "true"),
    ("istio_gateways", [{"name": "istio-ingressgateway", "namespace": "istio-ingress"}]), ("istio_source_installer", ""),
    ("istio_record_name", "meshops.upgrade"),
])
def test_good_values_pass(name, value):
    assert role_inputs.input_problems(dict(defaults(), **{name: value})) == []


def test_unknown_namespaces_are_named_per_variable():
    values = {"istio_data_plane_namespaces": ["bookinfo", "nope"], "istio_exclude_namespaces": ["paymentz", "shop"]}
    problems = role_inputs.unknown_namespaces(values, ["bookinfo", "shop"])
    assert problems == [
        "istio_data_plane_namespaces names nope that does not exist in the cluster: check the spelling (kubectl get namespaces) and "
        "correct istio_data_plane_namespaces",
        "istio_exclude_namespaces names paymentz that does not exist in the cluster: check the spelling (kubectl get "
        "namespaces) and correct istio_exclude_namespaces"]
    assert role_inputs.unknown_namespaces({"istio_data_plane_namespaces": 5}, []) == []
