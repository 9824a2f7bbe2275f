"""The store's cached JSON of stored objects, and status updates that share structure with the old version."""

from __future__ import annotations

import json

import pytest

from tests.simcluster.store import Store


def _compact(document) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _configmap(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": data}


@pytest.fixture(name="store")
def fixture_store():
    store = Store()
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return store


def test_serialized_is_the_compact_json_of_the_object_as_served(store):
    store.create(_configmap("a", {"k": "v"}))
    (stored,), _rv = store.list("configmaps", copy=False)
    text = store.serialized("configmaps", stored, "v1", "ConfigMap")
    assert text == _compact(store.get("configmaps", "default", "a"))
    assert store.serialized("configmaps", stored, "v1", "ConfigMap") is text  # kept, not encoded again


def test_serialized_follows_updates_and_the_served_version(store):
    created = store.create(_configmap("a", {"k": "v"}))
    (before,), _rv = store.list("configmaps", copy=False)
    store.serialized("configmaps", before, "v1", "ConfigMap")
    store.update({**created, "data": {"k": "new"}})
    (after,), _rv = store.list("configmaps", copy=False)
    assert json.loads(store.serialized("configmaps", after, "v1", "ConfigMap"))["data"] == {"k": "new"}
    assert json.loads(store.serialized("configmaps", before, "v1", "ConfigMap"))["data"] == {"k": "v"}

    store.create({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                  "metadata": {"name": "h", "namespace": "default"},
                  "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 3}})
    (hpa,), _rv = store.list("autoscaling/horizontalpodautoscalers", copy=False)
    key = "autoscaling/horizontalpodautoscalers"
    assert json.loads(store.serialized(key, hpa, "autoscaling/v2", "HorizontalPodAutoscaler"))["apiVersion"] == "autoscaling/v2"
    assert json.loads(store.serialized(key, hpa, "autoscaling/v1", "HorizontalPodAutoscaler"))["apiVersion"] == "autoscaling/v1"


def test_serialized_after_delete_and_reset_encodes_what_it_is_given(store):
    created = store.create(_configmap("a", {"k": "v"}))
    (stored,), _rv = store.list("configmaps", copy=False)
    store.delete("configmaps", "default", "a")
    store.create({**_configmap("a", {"k": "again"}), "metadata": {"name": "a", "namespace": "default"}})
    (again,), _rv = store.list("configmaps", copy=False)
    assert json.loads(store.serialized("configmaps", again, "v1", "ConfigMap"))["data"] == {"k": "again"}
    assert json.loads(store.serialized("configmaps", stored, "v1", "ConfigMap"))["metadata"]["uid"] == created["metadata"]["uid"]
    store.reset()
    assert store.list("configmaps")[0] == []


def test_status_update_leaves_earlier_versions_and_the_callers_object_untouched(store):
    created = store.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
                            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                                     "template": {"metadata": {"labels": {"app": "d"}},
                                                  "spec": {"containers": [{"name": "c", "image": "c:1"}]}}}})
    (before,), _rv = store.list("apps/deployments", copy=False)
    watch = store.watch("apps/deployments", resource_version=created["metadata"]["resourceVersion"])
    sent = {**created, "status": {"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]}}
    updated = store.update(sent, subresource="status")
    updated["spec"]["template"]["spec"]["containers"][0]["image"] = "changed:by-caller"
    sent["status"]["conditions"][0]["status"] = "False"

    stored = store.get("apps/deployments", "default", "d")
    assert stored["status"] == {"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]}
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "c:1"
    assert "status" not in before and before["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    rolled = store.update({**stored, "spec": {**stored["spec"], "template": {
        **stored["spec"]["template"], "spec": {"containers": [{"name": "c", "image": "c:2"}]}}}})
    assert rolled["metadata"]["generation"] == 2
    event_type, seen = watch.next(timeout=1)
    assert event_type == "MODIFIED" and seen["spec"]["template"]["spec"]["containers"][0]["image"] == "c:1"
    assert seen["status"]["conditions"][0]["status"] == "True"
    watch.close()
