"""The registry of served resource types and the errors' Status bodies."""

from __future__ import annotations

import pytest

from tests.simcluster import errors
from tests.simcluster.resources import Registry, key_for


@pytest.mark.parametrize("api_version, kind, key, namespaced, short", [
    ("v1", "Pod", "pods", True, ("po",)),
    ("v1", "Namespace", "namespaces", False, ("ns",)),
    ("v1", "Node", "nodes", False, ("no",)),
    ("v1", "Service", "services", True, ("svc",)),
    ("apps/v1", "Deployment", "apps/deployments", True, ("deploy",)),
    ("apps/v1", "StatefulSet", "apps/statefulsets", True, ("sts",)),
    ("policy/v1", "PodDisruptionBudget", "policy/poddisruptionbudgets", True, ("pdb",)),
    ("autoscaling/v1", "HorizontalPodAutoscaler", "autoscaling/horizontalpodautoscalers", True, ("hpa",)),
    ("autoscaling/v2", "HorizontalPodAutoscaler", "autoscaling/horizontalpodautoscalers", True, ("hpa",)),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration",
     "admissionregistration.k8s.io/mutatingwebhookconfigurations", False, ()),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "apiextensions.k8s.io/customresourcedefinitions", False,
     ("crd", "crds")),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "rbac.authorization.k8s.io/clusterrolebindings", False, ()),
])
def test_builtin_kinds(api_version, kind, key, namespaced, short):
    registry = Registry()
    assert key_for(api_version, kind) == key
    rt = registry.by_kind(api_version, kind)
    assert (rt.namespaced, rt.short_names, rt.api_version, rt.key) == (namespaced, short, api_version, key)


def test_preferred_version_and_subresources():
    registry = Registry()
    assert registry.by_key("autoscaling/horizontalpodautoscalers").version == "v2"
    assert [rt.version for rt in registry.versions_of("autoscaling/horizontalpodautoscalers")] == ["v2", "v1"]
    assert registry.get("apps", "v1", "deployments").subresources == ("status", "scale")
    assert "all" in registry.get("", "v1", "pods").categories
    assert registry.resolve("deploy").kind == "Deployment"
    assert ("autoscaling", ["v2", "v1"], "v2") in registry.groups()


def test_unknown_kind_is_not_found():
    with pytest.raises(errors.ApiError) as err:
        key_for("example.com/v1", "Widget")
    assert err.value.code == 404


def test_crd_registration_and_removal():
    registry = Registry()
    crd = {"spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget", "plural": "widgets"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size",
                                                                           "statusReplicasPath": ".status.size"}}},
                                 {"name": "v0", "served": False, "storage": False}]}}
    added = registry.register_crd(crd)
    assert [(rt.version, rt.namespaced, rt.subresources, rt.singular) for rt in added] == [("v1", False, ("status", "scale"), "widget")]
    assert registry.key_for("example.com/v1", "Widget") == "example.com/widgets"
    registry.unregister_crd(crd)
    assert registry.get("example.com", "v1", "widgets") is None


@pytest.mark.parametrize("error, code, reason, message", [
    (errors.not_found("pods", "x"), 404, "NotFound", 'pods "x" not found'),
    (errors.namespace_not_found("x"), 404, "NotFound", 'namespaces "x" not found'),
    (errors.unauthorized(), 401, "Unauthorized", "Unauthorized"),
    (errors.bad_request("bad"), 400, "BadRequest", "bad"),
    (errors.method_not_allowed(), 405, "MethodNotAllowed", "the server does not allow this method on the requested resource"),
    (errors.too_many_requests(), 429, "TooManyRequests", "Too many requests, please try again later."),
    (errors.internal_error("boom"), 500, "InternalError", "Internal error occurred: boom"),
    (errors.service_unavailable(), 503, "ServiceUnavailable", "the server is currently unable to handle the request"),
    (errors.forbidden("pods", "", 'User "x" cannot list resource "pods" in API group "" in the namespace "a"'), 403, "Forbidden",
     'pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "a"'),
])
def test_error_builders(error, code, reason, message):
    status = error.status()
    assert (status["code"], status["reason"], status["message"], status["status"], status["kind"]) == (
        code, reason, message, "Failure", "Status")


def test_invalid_with_several_causes_lists_them():
    registry = Registry()
    error = errors.invalid(registry.by_key("apps/deployments"), "d", [
        errors.invalid_cause("metadata.name", "D", "bad"), errors.invalid_cause("spec.replicas", -1, "must be >= 0")])
    assert error.message == 'Deployment.apps "d" is invalid: [metadata.name: Invalid value: "D": bad, spec.replicas: Invalid value: -1: must be >= 0]'
    assert error.status()["details"]["causes"][1] == {"reason": "FieldValueInvalid", "message": "Invalid value: -1: must be >= 0",
                                                      "field": "spec.replicas"}
