"""Webhooks that cannot be called, denials and dry runs, with the messages the API server writes."""

from __future__ import annotations

import pytest

from tests.simcluster.errors import ApiError
from tests.simcluster.fixtures import controlplane
from tests.simcluster.fixtures.mesh import namespace
from tests.simcluster.tests.istio.helpers import OLD, Mesh, ready, status_of, two_revisions


def test_not_ready_istiod_refuses_the_pod():
    mesh = Mesh(ready(two_revisions(), replicas=0))
    with pytest.raises(ApiError) as caught:
        mesh.pod("old-rev")
    error = caught.value
    assert (error.code, error.reason) == (500, "InternalError")
    assert error.message == (
        'Internal error occurred: failed calling webhook "rev.namespace.sidecar-injector.istio.io": failed to call webhook: '
        'Post "https://istiod-1-27-3.istio-system.svc:443/inject?timeout=10s": no endpoints available for service "istiod-1-27-3"')
    assert mesh.store.list("pods", "old-rev")[0] == []


def test_not_ready_istiod_does_not_matter_where_no_webhook_matches():
    mesh = Mesh(ready(two_revisions(), replicas=0))
    assert status_of(mesh.pod("plain")) is None


def test_missing_service_is_named():
    objs = [o for o in two_revisions() if not (o["kind"] == "Service" and o["metadata"]["name"] == f"istiod-{OLD}")]
    with pytest.raises(ApiError) as caught:
        Mesh(objs).pod("old-rev")
    assert caught.value.message.endswith(f'Post "https://istiod-{OLD}.istio-system.svc:443/inject?timeout=10s": service "istiod-{OLD}" not found')


def test_failure_policy_ignore_skips_the_webhook():
    objs = ready(two_revisions(), replicas=0)
    for obj in objs:
        if obj["kind"] == "MutatingWebhookConfiguration":
            for webhook in obj["webhooks"]:
                webhook["failurePolicy"] = "Ignore"
    pod = Mesh(objs).pod("old-rev")
    assert status_of(pod) is None


def foreign_webhook(client_config: dict, failure_policy: str, side_effects: str = "None") -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "a-policy-agent"},
            "webhooks": [{"name": "mutate.policy.example.com", "clientConfig": client_config, "failurePolicy": failure_policy,
                          "sideEffects": side_effects, "admissionReviewVersions": ["v1"],
                          "rules": [{"operations": ["CREATE"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["pods"]}]}]}


def test_non_istio_webhook_with_fail_refuses():
    agent = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "agent", "namespace": "istio-system"},
             "spec": {"selector": {"matchLabels": {"app": "agent"}},
                      "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "a"}]}}},
             "status": {"readyReplicas": 1}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "agent", "namespace": "istio-system"},
               "spec": {"selector": {"app": "agent"}, "ports": [{"port": 443}]}}
    hook = foreign_webhook({"service": {"name": "agent", "namespace": "istio-system", "path": "/mutate"}}, "Fail")
    mesh = Mesh(two_revisions() + [agent, service, hook])
    with pytest.raises(ApiError) as caught:
        mesh.pod("plain")
    assert caught.value.code == 500
    assert 'failed calling webhook "mutate.policy.example.com"' in caught.value.message
    assert 'Post "https://agent.istio-system.svc:443/mutate?timeout=10s"' in caught.value.message


def test_url_webhook_with_ignore_is_skipped():
    mesh = Mesh(two_revisions() + [foreign_webhook({"url": "https://policy.example.com/mutate"}, "Ignore")])
    assert status_of(mesh.pod("old-rev"))["revision"] == OLD


def test_dry_run_refused_by_webhook_with_side_effects():
    mesh = Mesh(two_revisions() + [foreign_webhook({"url": "https://policy.example.com/mutate"}, "Ignore", "Unknown")])
    with pytest.raises(ApiError) as caught:
        mesh.pod("plain", dry_run=True)
    assert (caught.value.code, caught.value.message) == (
        400, 'admission webhook "mutate.policy.example.com" has side effects and does not support dry run')


def test_unknown_template_is_denied():
    mesh = Mesh(two_revisions())
    with pytest.raises(ApiError) as caught:
        mesh.pod("old-rev", annotations={"inject.istio.io/templates": "grpc-agentless"})
    assert caught.value.code == 400
    assert caught.value.message.startswith('admission webhook "rev.namespace.sidecar-injector.istio.io" denied the request: '
                                           'failed to run injection template: requested template "grpc-agentless" not found')


def test_other_kinds_and_updates_are_untouched():
    mesh = Mesh(two_revisions())
    pod = mesh.pod("plain")
    pod["metadata"]["labels"] = {"istio.io/rev": OLD}
    updated = mesh.store.update(pod)
    assert status_of(updated) is None
    configmap = mesh.store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "old-rev"}})
    assert "annotations" not in configmap["metadata"]


def test_default_revision_down_refuses_injection_enabled_namespaces():
    objs = [namespace("istio-system"), namespace("apps", {"istio-injection": "enabled"})] + controlplane.render("", "1.26.2")
    with pytest.raises(ApiError) as caught:
        Mesh(ready(objs, replicas=0)).pod("apps")
    assert caught.value.message.endswith('no endpoints available for service "istiod"')
    assert 'failed calling webhook "namespace.sidecar-injector.istio.io"' in caught.value.message
