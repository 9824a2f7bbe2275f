"""Which webhook fields an installer leaves to istiod (istio/istiod_fields.py)."""
from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio.istiod_fields import without_istiod_fields


def _config(kind: str, labels: dict | None, policy: str | None = "Ignore", ca: str | None = "Q0E=") -> dict:
    hook = {"name": "rev.validation.istio.io", "clientConfig": {"service": {"name": "istiod-1-29-1", "namespace": "istio-system"}}}
    if ca is not None:
        hook["clientConfig"]["caBundle"] = ca
    if policy is not None:
        hook["failurePolicy"] = policy
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": "x", "labels": labels}, "webhooks": [hook]}


REV = {"istio.io/rev": "1-29-1"}


@pytest.mark.parametrize("kind, labels, exists, want_policy, want_ca", [
    # istiod's validator: the caBundle is never applied, the failurePolicy only when the object is new (fail open)
    ("ValidatingWebhookConfiguration", REV, False, "Ignore", None),
    ("ValidatingWebhookConfiguration", REV, True, None, None),
    # istiod's injector: the caBundle is istiod's, failurePolicy (Fail) stays the installer's
    ("MutatingWebhookConfiguration", REV, False, "Ignore", None),
    ("MutatingWebhookConfiguration", REV, True, "Ignore", None),
    # not istiod's (no istio.io/rev label): applied as given
    ("ValidatingWebhookConfiguration", {"app": "other"}, True, "Ignore", "Q0E="),
    ("MutatingWebhookConfiguration", None, True, "Ignore", "Q0E="),
])
def test_without_istiod_fields(kind, labels, exists, want_policy, want_ca):
    obj = _config(kind, labels)
    applied = without_istiod_fields(obj, exists=exists)
    hook = applied["webhooks"][0]
    assert hook.get("failurePolicy") == want_policy
    assert hook["clientConfig"].get("caBundle") == want_ca
    assert hook["clientConfig"]["service"]["name"] == "istiod-1-29-1"
    assert obj["webhooks"][0]["failurePolicy"] == "Ignore" and obj["webhooks"][0]["clientConfig"]["caBundle"] == "Q0E="  # a copy


def test_other_kinds_are_untouched():
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "istiod-1-29-1", "labels": REV}}
    assert without_istiod_fields(deployment, exists=True) is deployment
