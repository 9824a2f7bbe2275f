"""JSON patch, merge patch, strategic merge patch and server-side apply."""

from __future__ import annotations

import copy

import pytest

from tests.simcluster.errors import ApiError
from tests.simcluster.patch import json_patch, merge_patch, server_side_apply, strategic_merge_patch

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a"]},
    "spec": {
        "containers": [
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "ports": [{"containerPort": 80}], "volumeMounts": [{"name": "v", "mountPath": "/data"}]},
            {"name": "istio-proxy", "image": "proxyv2:1.28.0"},
        ],
        "tolerations": [{"key": "a", "operator": "Exists"}],
        "volumes": [{"name": "v", "emptyDir": {}}],
    },
}


def test_json_patch_applies_operations_without_touching_input():
    result = json_patch(POD, [{"op": "replace", "path": "/metadata/labels/app", "value": "api"},
                              {"op": "add", "path": "/metadata/labels/x", "value": "1"},
                              {"op": "remove", "path": "/spec/tolerations"}])
    assert result["metadata"]["labels"] == {"app": "api", "tier": "front", "x": "1"}
    assert "tolerations" not in result["spec"]
    assert POD["metadata"]["labels"]["app"] == "web"


@pytest.mark.parametrize("ops, code", [
    ({"op": "add"}, 400),
    ([{"op": "jump", "path": "/a"}], 400),
    ([{"op": "remove", "path": "/metadata/labels/nope"}], 422),
    ([{"op": "test", "path": "/metadata/name", "value": "other"}], 422),
])
def test_json_patch_errors(ops, code):
    with pytest.raises(ApiError) as err:
        json_patch(POD, ops)
    assert err.value.code == code


@pytest.mark.parametrize("target, patch, expected", [
    ({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}}, {"a": 1, "b": {"d": 3, "e": 4}}),
    ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
    ({"a": 1}, {"a": None, "b": None}, {}),
    ({"a": {"b": 1}}, {"a": "x"}, {"a": "x"}),
])
def test_merge_patch_rfc7386(target, patch, expected):
    assert merge_patch(target, patch) == expected


def _containers(obj):
    return {c["name"]: c for c in obj["spec"]["containers"]}


def test_strategic_merge_merges_containers_and_env_by_name():
    patch = {"spec": {"containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}
    result = strategic_merge_patch(POD, patch, "pods")
    containers = _containers(result)
    assert containers["app"]["image"] == "app:2"
    assert containers["app"]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]
    assert containers["istio-proxy"]["image"] == "proxyv2:1.28.0"
    assert containers["app"]["ports"] == [{"containerPort": 80}]


def test_strategic_merge_directives():
    patch = {
        "metadata": {"labels": {"tier": None, "new": "1"}, "finalizers": ["b"]},
        "spec": {
            "containers": [{"name": "istio-proxy", "$patch": "delete"},
                           {"name": "app", "env": [{"name": "A", "$patch": "delete"}],
                            "$deleteFromPrimitiveList/args": ["x"], "volumeMounts": [{"mountPath": "/tmp", "name": "t"}]}],
            "tolerations": [{"key": "b", "operator": "Exists"}],
            "volumes": [{"name": "t", "emptyDir": {}}, {"$patch": "replace"}],
        },
    }
    result = strategic_merge_patch(POD, patch, "pods")
    assert list(_containers(result)) == ["app"]
    assert _containers(result)["app"]["env"] == [{"name": "B", "value": "2"}]
    assert [m["mountPath"] for m in _containers(result)["app"]["volumeMounts"]] == ["/data", "/tmp"]
    assert result["metadata"]["labels"] == {"app": "web", "new": "1"}
    assert result["metadata"]["finalizers"] == ["a", "b"]
    assert result["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]
    assert result["spec"]["volumes"] == [{"name": "t", "emptyDir": {}}]


def test_strategic_merge_map_replace_delete_and_retain_keys():
    patch = {"metadata": {"labels": {"$patch": "replace", "only": "this"}},
             "spec": {"volumes": [{"name": "v", "emptyDir": {"$patch": "delete"}, "hostPath": {"path": "/x"},
                                   "$retainKeys": ["name", "hostPath"]}]}}
    result = strategic_merge_patch(POD, patch, "pods")
    assert result["metadata"]["labels"] == {"only": "this"}
    assert result["spec"]["volumes"] == [{"name": "v", "hostPath": {"path": "/x"}}]


def test_strategic_merge_refuses_custom_resources():
    with pytest.raises(ApiError) as err:
        strategic_merge_patch({}, {"spec": {}}, "networking.istio.io/gateways")
    assert err.value.code == 415


DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "d", "namespace": "ns", "labels": {"app": "d", "team": "a"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d"}},
             "template": {"metadata": {"labels": {"app": "d"}},
                          "spec": {"containers": [{"name": "c", "image": "c:1", "env": [{"name": "X", "value": "1"}]}]}}},
}


def _apply(live, applied, manager="kubectl", force=False):
    return server_side_apply(live, applied, manager, force)


def _deployment(**spec_changes):
    obj = copy.deepcopy(DEPLOYMENT)
    obj["spec"].update(spec_changes)
    return obj


def test_ssa_create_records_apply_manager():
    created = _apply(None, DEPLOYMENT)
    entry, = created["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"], entry["apiVersion"], entry["fieldsType"]) == ("kubectl", "Apply", "apps/v1", "FieldsV1")
    fields = entry["fieldsV1"]
    assert fields["f:metadata"]["f:labels"] == {"f:app": {}, "f:team": {}}
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"c"}']
    assert container["."] == {} and "f:image" in container
    assert 'k:{"name":"X"}' in container["f:env"]


def test_ssa_unchanged_reapply_returns_live_object():
    live = _apply(None, DEPLOYMENT)
    live["metadata"]["resourceVersion"] = "7"
    assert _apply(live, DEPLOYMENT) == live


def test_ssa_changed_and_removed_fields():
    live = _apply(None, DEPLOYMENT)
    changed = _deployment(replicas=3)
    del changed["metadata"]["labels"]["team"]
    changed["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "Y", "value": "2"}]
    result = _apply(live, changed)
    assert result["spec"]["replicas"] == 3
    assert result["metadata"]["labels"] == {"app": "d"}
    assert result["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "Y", "value": "2"}]
    assert "f:team" not in result["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]["f:labels"]


def test_ssa_keeps_fields_of_other_managers_and_defaults():
    live = _apply(None, DEPLOYMENT)
    live["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "now"}
    live["spec"]["progressDeadlineSeconds"] = 600
    result = _apply(live, _deployment(replicas=4), manager="kubectl")
    assert result["spec"]["template"]["metadata"]["annotations"] == {"kubectl.kubernetes.io/restartedAt": "now"}
    assert result["spec"]["progressDeadlineSeconds"] == 600


def test_ssa_conflict_with_other_manager_unless_forced():
    live = _apply(None, DEPLOYMENT, manager="helm")
    with pytest.raises(ApiError) as err:
        _apply(live, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 9}})
    assert err.value.code == 409
    assert err.value.message == 'Apply failed with 1 conflict: conflict with "helm": .spec.replicas'
    assert err.value.status()["details"]["causes"][0]["field"] == ".spec.replicas"
    forced = _apply(live, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 9}},
                    force=True)
    assert forced["spec"]["replicas"] == 9
    owners = {e["manager"]: e["fieldsV1"] for e in forced["metadata"]["managedFields"]}
    assert "f:replicas" not in owners["helm"]["f:spec"]
    assert owners["kubectl"]["f:spec"] == {"f:replicas": {}}


def test_ssa_same_value_shares_ownership():
    live = _apply(None, DEPLOYMENT, manager="helm")
    result = _apply(live, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 2}})
    assert {e["manager"] for e in result["metadata"]["managedFields"]} == {"helm", "kubectl"}


def test_ssa_requires_field_manager():
    with pytest.raises(ApiError) as err:
        server_side_apply(None, DEPLOYMENT, "", False)
    assert err.value.code == 400
