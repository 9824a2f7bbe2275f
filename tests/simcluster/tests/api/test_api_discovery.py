"""Discovery, OpenAPI, Table output, and CRDs that become servable at once."""
from __future__ import annotations

from kubernetes import client
from kubernetes.dynamic import DynamicClient

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def test_version_and_group_discovery(sim, raw):
    status, _unused, version = raw("GET", "/version")
    assert status == 200 and version["gitVersion"] == sim.settings.server_version and version["minor"] == "35"
    _unused, _unused, core = raw("GET", "/api")
    assert core["versions"] == ["v1"]
    _unused, _unused, groups = raw("GET", "/apis")
    apps = next(g for g in groups["groups"] if g["name"] == "apps")
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    _unused, _unused, resources = raw("GET", "/apis/apps/v1")
    names = {r["name"]: r for r in resources["resources"]}
    assert names["deployments"]["namespaced"] and "deploy" in names["deployments"]["shortNames"]
    assert names["deployments/scale"]["kind"] == "Scale" and names["deployments/scale"]["group"] == "autoscaling"
    _unused, _unused, core_resources = raw("GET", "/api/v1")
    assert "pods/status" in {r["name"] for r in core_resources["resources"]}
    assert raw("GET", "/apis/nothing.example/v1")[0] == 404


def test_aggregated_discovery_request_gets_plain_json(raw):
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    status, headers, body = raw("GET", "/apis", headers={"Accept": accept})
    assert status == 200 and headers["Content-Type"] == "application/json" and body["kind"] == "APIGroupList"


def test_openapi_v3_declares_field_validation(raw):
    _unused, _unused, root = raw("GET", "/openapi/v3")
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    _unused, _unused, document = raw("GET", url)
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    parameter = next(p for p in patch["parameters"] if p["name"] == "fieldValidation")
    assert parameter["in"] == "query"


def test_table_output_for_pods_and_namespaces(sim, raw):
    sim.load([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default", "labels": {"a": "b"}},
               "spec": {"containers": [{"name": "c", "image": "i"}]},
               "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": True, "restartCount": 2}]}}])
    _unused, _unused, table = raw("GET", "/api/v1/namespaces/default/pods?includeObject=Object", headers={"Accept": TABLE})
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert table["rows"][0]["cells"][0] == "p" and len(table["rows"][0]["cells"]) == 9
    assert table["rows"][0]["object"]["metadata"]["labels"] == {"a": "b"}
    _unused, _unused, table = raw("GET", "/api/v1/namespaces", headers={"Accept": TABLE})
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    sim.load([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "default"}, "data": {"a": "1", "b": "2"}}])
    _unused, _unused, table = raw("GET", "/api/v1/namespaces/default/configmaps/cm?includeObject=None", headers={"Accept": TABLE})
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert table["rows"][0]["cells"][:2] == ["cm", 2] and "object" not in table["rows"][0]


def test_crd_makes_its_kind_servable_at_once(sim, k8s_client):
    client.ApiextensionsV1Api(k8s_client).create_custom_resource_definition(CRD)
    dynamic = DynamicClient(k8s_client)
    widgets = dynamic.resources.get(api_version="example.com/v1", kind="Widget")
    widgets.create(body={"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}},
                   namespace="default")
    listed = widgets.get(namespace="default")
    assert [item.metadata.name for item in listed.items] == ["w1"]
    widgets.patch(name="w1", namespace="default", body={"spec": {"size": 4}}, content_type="application/merge-patch+json")
    assert sim.store.get("example.com/widgets", "default", "w1")["spec"] == {"size": 4}
    client.ApiextensionsV1Api(k8s_client).delete_custom_resource_definition("widgets.example.com")
    assert sim.store.registry.get("example.com", "v1", "widgets") is None
