"""Every PATCH content type, server-side apply (create, conflict, force) and managedFields."""
from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "side", "image": "side:1"}]}}},
}
PATH = "/apis/apps/v1/namespaces/default/deployments/web"


def _patch(raw, content_type: str, body, query: str = ""):
    text = body if isinstance(body, str) else json.dumps(body)
    return raw("PATCH", PATH + query, text, headers={"Content-Type": content_type})


def _containers(sim) -> list:
    return sim.store.get("apps/deployments", "default", "web")["spec"]["template"]["spec"]["containers"]


def test_json_patch(sim, raw):
    sim.load([DEPLOYMENT])
    status, _unused, body = _patch(raw, "application/json-patch+json",
                                   [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "app:2"}])
    assert status == 200 and body["kind"] == "Deployment"
    assert [c["image"] for c in _containers(sim)] == ["app:2", "side:1"]
    status, _unused, body = _patch(raw, "application/json-patch+json", [{"op": "test", "path": "/spec/replicas", "value": 9}])
    assert status == 422


def test_merge_patch_replaces_lists(sim, raw):
    sim.load([DEPLOYMENT])
    patch = {"metadata": {"labels": {"team": "a"}}, "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:3"}]}}}}
    status, _unused, _unused = _patch(raw, "application/merge-patch+json", patch)
    assert status == 200
    assert [c["name"] for c in _containers(sim)] == ["app"]
    assert sim.store.get("apps/deployments", "default", "web")["metadata"]["labels"] == {"team": "a"}


def test_strategic_merge_patch_merges_containers_by_name(sim, raw):
    sim.load([DEPLOYMENT])
    status, _unused, _unused = _patch(raw, "application/strategic-merge-patch+json",
                                      {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "side:2"}]}}}})
    assert status == 200
    assert [(c["name"], c["image"]) for c in _containers(sim)] == [("app", "app:1"), ("side", "side:2")]


def test_unsupported_patch_type_is_415(sim, raw):
    sim.load([DEPLOYMENT])
    status, _unused, body = _patch(raw, "text/plain", "{}")
    assert status == 415 and body["reason"] == "UnsupportedMediaType"


def test_server_side_apply_creates_then_updates_and_records_manager(sim, raw):
    path = "/api/v1/namespaces/default/configmaps/cfg?fieldManager=tool-a"
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"}, "data": {"a": "1"}}

    def apply(document):
        return raw("PATCH", path, json.dumps(document), headers={"Content-Type": "application/apply-patch+yaml"})

    status, _unused, body = apply(manifest)
    assert status == 201 and body["metadata"]["managedFields"][0]["manager"] == "tool-a"
    first_rv = body["metadata"]["resourceVersion"]
    status, _unused, body = apply(manifest)
    assert status == 200 and body["metadata"]["resourceVersion"] == first_rv  # unchanged: no new version
    status, _unused, body = apply(dict(manifest, data={"a": "2"}))
    assert status == 200 and body["metadata"]["resourceVersion"] != first_rv
    stored = sim.store.get("configmaps", "default", "cfg")
    assert stored["data"] == {"a": "2"}
    assert [(e["manager"], e["operation"]) for e in stored["metadata"]["managedFields"]] == [("tool-a", "Apply")]


def test_server_side_apply_conflict_and_force(sim, raw):
    _patch(raw, "application/apply-patch+yaml", json.dumps(DEPLOYMENT), "?fieldManager=tool-a")
    other = dict(DEPLOYMENT, spec=dict(DEPLOYMENT["spec"], replicas=7))
    status, _unused, body = _patch(raw, "application/apply-patch+yaml", json.dumps(other), "?fieldManager=tool-b")
    assert status == 409 and body["reason"] == "Conflict"
    assert sim.store.get("apps/deployments", "default", "web")["spec"]["replicas"] == 1
    status, _unused, _unused = _patch(raw, "application/apply-patch+yaml", json.dumps(other), "?fieldManager=tool-b&force=true")
    assert status == 200 and sim.store.get("apps/deployments", "default", "web")["spec"]["replicas"] == 7


def test_server_side_apply_yaml_body_and_dry_run(sim, raw):
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: default\ndata:\n  a: '1'\n"
    status, _unused, body = raw("PATCH", "/api/v1/namespaces/default/configmaps/cfg?fieldManager=me&dryRun=All", manifest,
                                headers={"Content-Type": "application/apply-patch+yaml"})
    assert status == 201 and body["data"] == {"a": "1"}
    assert sim.store.get("configmaps", "default", "cfg") is None
    assert sim.requests[-1].dry_run and sim.writes() == []


def test_patch_through_typed_client_records_field_manager(sim, k8s_client):
    sim.load([DEPLOYMENT])
    client.AppsV1Api(k8s_client).patch_namespaced_deployment("web", "default", {"metadata": {"annotations": {"a": "b"}}},
                                                             field_manager="my-tool")
    entries = sim.store.get("apps/deployments", "default", "web")["metadata"]["managedFields"]
    assert any(e["manager"] == "my-tool" and e["operation"] == "Update" for e in entries)
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(k8s_client).patch_namespaced_deployment("absent", "default", {"metadata": {}})
    assert caught.value.status == 404
