"""Lists (selectors, pagination) and watches through the Python client."""
from __future__ import annotations

import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException


def _configmap(name: str, labels: dict) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default", "labels": labels}}


def test_label_and_field_selectors(sim, k8s_client):
    sim.load([_configmap("a", {"app": "x", "tier": "web"}), _configmap("b", {"app": "x", "tier": "db"}),
              _configmap("c", {"app": "y"})])
    core = client.CoreV1Api(k8s_client)

    def names(**kwargs):
        return [item.metadata.name for item in core.list_namespaced_config_map("default", **kwargs).items]

    assert names(label_selector="app=x") == ["a", "b"]
    assert names(label_selector="app=x,tier notin (db)") == ["a"]
    assert names(label_selector="!tier") == ["c"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b", label_selector="app") == ["a", "c"]
    with pytest.raises(ApiException) as caught:
        names(field_selector="data.k=v")
    assert caught.value.status == 400


def test_pagination_with_limit_and_continue(sim, k8s_client):
    sim.load([_configmap(f"cm-{i:03d}", {"bulk": "yes"}) for i in range(57)])
    core = client.CoreV1Api(k8s_client)
    seen, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map("default", limit=10, _continue=token, label_selector="bulk=yes")
        pages += 1
        seen.extend(item.metadata.name for item in page.items)
        token = page.to_dict()["metadata"]["_continue"]
        if not token:
            break
    assert pages == 6
    assert seen == [f"cm-{i:03d}" for i in range(57)]
    lists = [r for r in sim.requests if r.verb == "list"]
    assert len(lists) == 6 and lists[0].query["limit"] == "10"


def test_all_namespaces_list(sim, k8s_client):
    sim.load([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": ns}} for ns in ("a", "b")])
    items = client.CoreV1Api(k8s_client).list_config_map_for_all_namespaces().items
    assert [(i.metadata.namespace, i.metadata.name) for i in items] == [("a", "x"), ("b", "x")]


def test_watch_streams_added_modified_deleted(sim, k8s_client):
    core = client.CoreV1Api(k8s_client)
    start = core.list_namespaced_config_map("default").metadata.resource_version
    events = []
    ready = threading.Event()

    def consume():
        stream = watch.Watch()
        ready.set()
        for event in stream.stream(core.list_namespaced_config_map, "default", resource_version=start, timeout_seconds=5):
            events.append((event["type"], event["object"].metadata.name, (event["object"].data or {}).get("k")))
            if event["type"] == "DELETED":
                stream.stop()

    worker = threading.Thread(target=consume)
    worker.start()
    ready.wait()
    core.create_namespaced_config_map("default", {"metadata": {"name": "w"}, "data": {"k": "1"}})
    core.patch_namespaced_config_map("w", "default", {"data": {"k": "2"}})
    core.delete_namespaced_config_map("w", "default")
    worker.join(timeout=10)
    assert events == [("ADDED", "w", "1"), ("MODIFIED", "w", "2"), ("DELETED", "w", "2")]
    assert any(r.verb == "watch" and r.query.get("resourceVersion") == start for r in sim.requests)


def test_watch_without_resource_version_starts_with_current_objects(sim, k8s_client):
    sim.load([_configmap("old", {"app": "x"}), _configmap("other", {"app": "y"})])
    core = client.CoreV1Api(k8s_client)
    stream = watch.Watch()
    events = [(e["type"], e["object"].metadata.name)
              for e in stream.stream(core.list_namespaced_config_map, "default", label_selector="app=x", timeout_seconds=1)]
    assert events == [("ADDED", "old")]


def test_watch_from_expired_resource_version_is_410(sim, raw):
    sim.store.reset()  # history floor moves past every earlier resourceVersion
    sim.load([_configmap("x", {})])
    status, _unused, event = raw("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&timeoutSeconds=1")
    assert status == 200
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
