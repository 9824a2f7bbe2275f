"""The JSON of lists (built from each object's cached encoding) through HTTPS: exact bytes, updates, versions."""
from __future__ import annotations

import json


def _configmap(name: str, value: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": {"k": value}}


def _raw_body(raw, path: str) -> bytes:
    connection = raw.connection()
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {raw.cluster.token}", "Accept": "application/json"})
        response = connection.getresponse()
        assert response.status == 200
        assert int(response.getheader("Content-Length")) > 0
        return response.read()
    finally:
        connection.close()


def test_list_body_is_compact_json_with_items_as_served(sim, raw):
    sim.load([_configmap(f"cm-{i}", "v") for i in range(3)])
    body = _raw_body(raw, "/api/v1/namespaces/default/configmaps?limit=2")
    document = json.loads(body)
    assert body == json.dumps(document, separators=(",", ":")).encode() + b"\n"
    assert document["kind"] == "ConfigMapList" and document["apiVersion"] == "v1"
    assert set(document["metadata"]) == {"resourceVersion", "continue", "remainingItemCount"}
    assert [item["metadata"]["name"] for item in document["items"]] == ["cm-0", "cm-1"]
    assert all(item["apiVersion"] == "v1" and item["kind"] == "ConfigMap" for item in document["items"])
    assert document["items"][0] == sim.store.get("configmaps", "default", "cm-0")


def test_list_after_update_shows_the_new_object(sim, raw):
    sim.load([_configmap("a", "old")])
    assert json.loads(_raw_body(raw, "/api/v1/configmaps"))["items"][0]["data"] == {"k": "old"}
    status, _headers, _document = raw("PATCH", "/api/v1/namespaces/default/configmaps/a", json.dumps({"data": {"k": "new"}}),
                                      headers={"Content-Type": "application/merge-patch+json"})
    assert status == 200
    listed = json.loads(_raw_body(raw, "/api/v1/configmaps"))
    assert listed["items"][0]["data"] == {"k": "new"}
    assert listed["items"][0]["metadata"]["resourceVersion"] == listed["metadata"]["resourceVersion"]


def test_each_served_version_lists_its_own_api_version(sim, raw):
    sim.load([{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": "default"},
               "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"}, "maxReplicas": 3}}])
    for version in ("v2", "v1", "v2"):
        listed = json.loads(_raw_body(raw, f"/apis/autoscaling/{version}/namespaces/default/horizontalpodautoscalers"))
        assert listed["apiVersion"] == f"autoscaling/{version}"
        assert [item["apiVersion"] for item in listed["items"]] == [f"autoscaling/{version}"]


def test_pretty_and_table_lists_still_answer(sim, raw):
    sim.load([_configmap("a", "v")])
    status, _headers, text = raw("GET", "/api/v1/namespaces/default/configmaps?pretty=true")
    assert status == 200 and text["items"][0]["metadata"]["name"] == "a"
    status, _headers, table = raw("GET", "/api/v1/namespaces/default/configmaps",
                                  headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    assert status == 200 and table["kind"] == "Table" and table["rows"][0]["cells"][0] == "a"
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
