"""Builders of Istio objects as dicts, following the istio-discovery chart templates (for table-driven tests)."""

from __future__ import annotations

NEVER_MATCH = {"matchLabels": {"istio.io/deactivated": "never-match"}}
POD_CREATE = [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]


def _hook(prefix, service, namespace_selector, object_selector):
    return {"name": prefix + "sidecar-injector.istio.io",
            "clientConfig": {"service": {"name": service, "namespace": "istio-system", "path": "/inject", "port": 443}},
            "rules": POD_CREATE, "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"],
            "namespaceSelector": namespace_selector, "objectSelector": object_selector}


def _expr(key, operator, values=None):
    expr = {"key": key, "operator": operator}
    if values is not None:
        expr["values"] = values
    return expr


def injector_webhooks(selector_value, service, with_default):
    """The webhooks of a revision (or tag) MWC; ``with_default`` adds namespace. and object. (default revision)."""
    not_false = {"matchExpressions": [_expr("sidecar.istio.io/inject", "NotIn", ["false"])]}
    hooks = [
        _hook("rev.namespace.", service,
              {"matchExpressions": [_expr("istio.io/rev", "In", [selector_value]), _expr("istio-injection", "DoesNotExist")]},
              not_false),
        _hook("rev.object.", service,
              {"matchExpressions": [_expr("istio.io/rev", "DoesNotExist"), _expr("istio-injection", "DoesNotExist")]},
              {"matchExpressions": [_expr("sidecar.istio.io/inject", "NotIn", ["false"]),
                                    _expr("istio.io/rev", "In", [selector_value])]}),
    ]
    if with_default:
        hooks += [
            _hook("namespace.", service, {"matchExpressions": [_expr("istio-injection", "In", ["enabled"])]}, not_false),
            _hook("object.", service,
                  {"matchExpressions": [_expr("istio-injection", "DoesNotExist"), _expr("istio.io/rev", "DoesNotExist")]},
                  {"matchExpressions": [_expr("sidecar.istio.io/inject", "In", ["true"]), _expr("istio.io/rev", "DoesNotExist")]}),
        ]
    return hooks


def revision_mwc(revision="", deactivated=False):
    """``istio-sidecar-injector[-R]`` as the istiod chart renders it (revision "" is the default revision)."""
    name = "istio-sidecar-injector" + ("-" + revision if revision else "")
    hooks = injector_webhooks(revision or "default", "istiod" + ("-" + revision if revision else ""), not revision)
    if deactivated:
        for hook in hooks:
            hook["namespaceSelector"] = NEVER_MATCH
            hook["objectSelector"] = NEVER_MATCH
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": name, "labels": {"istio.io/rev": revision or "default", "app": "sidecar-injector",
                                                  "operator.istio.io/component": "Pilot"}},
            "webhooks": hooks}


def tag_mwc(tag, revision):
    """``istio-revision-tag-<T>`` pointing at ``revision``; the ``default`` tag also has namespace./object."""
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "istio-revision-tag-" + tag,
                         "labels": {"istio.io/tag": tag, "istio.io/rev": revision or "default", "app": "sidecar-injector"}},
            "webhooks": injector_webhooks(tag, "istiod" + ("-" + revision if revision else ""), tag == "default")}


def istiod_deployment(revision, version, replicas=1, ready=1, variant=""):
    """An istiod Deployment of ``revision`` running pilot ``version``."""
    name = "istiod" + ("-" + revision if revision else "")
    tag = version + ("-" + variant if variant else "")
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "istio-system", "generation": 1,
                         "labels": {"app": "istiod", "istio.io/rev": revision or "default", "istio": "pilot"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "discovery", "image": "docker.io/istio/pilot:" + tag,
                 "env": [{"name": "REVISION", "value": revision or "default"}]}]}}},
            "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": ready}}


def validator_vwc(revision, name=None):
    """The revision's validator, or ``istiod-default-validator`` when ``name`` says so."""
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": name or "istio-validator%s-istio-system" % ("-" + revision if revision else ""),
                         "labels": {"app": "istiod", "istio.io/rev": revision or "default"}},
            "webhooks": [{"name": "rev.validation.istio.io"}]}
