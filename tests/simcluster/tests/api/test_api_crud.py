"""CRUD through the real Kubernetes Python client: codes, Status bodies and stored state."""
from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


def _configmap(name: str, namespace: str = "default", data: dict | None = None, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "data": data or {"k": "v"}}


def test_create_get_replace_delete_configmap(sim, k8s_client):
    core = client.CoreV1Api(k8s_client)
    created = core.create_namespaced_config_map("default", _configmap("one"))
    assert created.metadata.uid and created.metadata.resource_version
    fetched = core.read_namespaced_config_map("one", "default")
    assert fetched.data == {"k": "v"}
    fetched.data = {"k": "w"}
    replaced = core.replace_namespaced_config_map("one", "default", fetched)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert sim.store.get("configmaps", "default", "one")["data"] == {"k": "w"}
    core.delete_namespaced_config_map("one", "default")
    assert sim.store.get("configmaps", "default", "one") is None


def test_missing_object_is_404_with_status(k8s_client):
    core = client.CoreV1Api(k8s_client)
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("absent", "default")
    assert caught.value.status == 404
    assert '"reason":"NotFound"' in caught.value.body
    assert 'configmaps \\"absent\\" not found' in caught.value.body


def test_create_twice_is_409_already_exists(k8s_client):
    core = client.CoreV1Api(k8s_client)
    core.create_namespaced_config_map("default", _configmap("dup"))
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("default", _configmap("dup"))
    assert caught.value.status == 409
    assert '"reason":"AlreadyExists"' in caught.value.body


def test_stale_replace_is_409_conflict(sim, k8s_client):
    core = client.CoreV1Api(k8s_client)
    first = core.create_namespaced_config_map("default", _configmap("stale"))
    core.patch_namespaced_config_map("stale", "default", {"data": {"k": "newer"}})
    first.data = {"k": "older"}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("stale", "default", first)
    assert caught.value.status == 409
    assert '"reason":"Conflict"' in caught.value.body
    assert sim.store.get("configmaps", "default", "stale")["data"] == {"k": "newer"}


def test_body_namespace_must_match_url(raw):
    status, _unused, body = raw("POST", "/api/v1/namespaces/default/configmaps", _configmap("x", namespace="kube-system"))
    assert status == 400
    assert body["reason"] == "BadRequest"
    assert "does not match the namespace" in body["message"]


def test_create_in_missing_namespace_is_404(k8s_client):
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(k8s_client).create_namespaced_config_map("nowhere", _configmap("x", namespace="nowhere"))
    assert caught.value.status == 404


def test_wrong_or_missing_token_is_401(raw):
    for token in ("wrong", None):
        status, _unused, body = raw("GET", "/api/v1/namespaces", token=token)
        assert status == 401
        assert body["kind"] == "Status" and body["reason"] == "Unauthorized"
    assert raw("GET", "/healthz", token=None)[:3:2] == (200, "ok")


def test_unknown_path_404_and_unsupported_verb_405(raw):
    status, _unused, body = raw("GET", "/apis/nothing.example/v1/things")
    assert status == 404 and body["kind"] == "Status"
    status, _unused, body = raw("POST", "/api/v1/namespaces/default/configmaps/named", _configmap("named"))
    assert status == 405 and body["reason"] == "MethodNotAllowed"


def test_deployment_scale_and_status_subresources(sim, k8s_client):
    apps = client.AppsV1Api(k8s_client)
    apps.create_namespaced_deployment("default", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert scale.spec.replicas == 1 and scale.status.selector == "app=web"
    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 3}})
    assert sim.store.get("apps/deployments", "default", "web")["spec"]["replicas"] == 3


def test_status_subresource_changes_only_status(sim, k8s_client):
    core = client.CoreV1Api(k8s_client)
    service = {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    core.create_namespaced_service("default", service)
    core.patch_namespaced_service_status("lb", "default", {"spec": {"type": "ClusterIP"},
                                                           "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}})
    stored = sim.store.get("services", "default", "lb")
    assert stored["status"]["loadBalancer"]["ingress"] == [{"ip": "10.0.0.9"}]
    assert stored["spec"]["type"] == "LoadBalancer"


def test_delete_answers_like_the_real_server(raw, k8s_client):
    core = client.CoreV1Api(k8s_client)
    core.create_namespaced_config_map("default", _configmap("gone"))
    status, _unused, body = raw("DELETE", "/api/v1/namespaces/default/configmaps/gone")
    assert status == 200 and body["kind"] == "Status" and body["status"] == "Success"
    core.create_namespace({"metadata": {"name": "temp"}})
    status, _unused, body = raw("DELETE", "/api/v1/namespaces/temp")
    assert status == 200 and body["kind"] == "Namespace"


def test_deletecollection_with_label_selector(sim, k8s_client):
    core = client.CoreV1Api(k8s_client)
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        core.create_namespaced_config_map("default", _configmap(name, labels={"tier": tier}))
    core.delete_collection_namespaced_config_map("default", label_selector="tier=x")
    left = [obj["metadata"]["name"] for obj in sim.store.list("configmaps", "default")[0]]
    assert left == ["c"]


def test_dry_run_stores_nothing_and_is_flagged(sim, k8s_client):
    core = client.CoreV1Api(k8s_client)
    answer = core.create_namespaced_config_map("default", _configmap("dry"), dry_run="All")
    assert answer.metadata.name == "dry"
    assert sim.store.get("configmaps", "default", "dry") is None
    core.create_namespaced_config_map("default", _configmap("real"))
    core.patch_namespaced_config_map("real", "default", {"data": {"k": "dry"}}, dry_run="All")
    core.delete_namespaced_config_map("real", "default", dry_run="All")
    assert sim.store.get("configmaps", "default", "real")["data"] == {"k": "v"}
    dry = [r for r in sim.requests if r.dry_run]
    assert [r.verb for r in dry] == ["create", "patch", "delete"]
    assert [(r.verb, r.name) for r in sim.writes()] == [("create", "real")]
