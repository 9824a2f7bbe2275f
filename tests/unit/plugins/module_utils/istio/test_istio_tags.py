"""Revision tags rendered from a revision's own webhook: names, labels, webhooks, Service, default validator,
deactivation and change detection."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.istio import tags
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import parse_version
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import evaluate_injection
from tests.simcluster.fixtures import controlplane

NEW, NEW_VERSION = "1-29-2", "1.29.2"


def revision_config(revision=NEW, version=NEW_VERSION, installer="istioctl", ca_bundle="Q0E="):
    """The revision's own MutatingWebhookConfiguration as the chart renders it, with a caBundle patched in."""
    config = next(o for o in controlplane.render(revision, version, installer=installer)
                  if o["kind"] == "MutatingWebhookConfiguration")
    for hook in config["webhooks"]:
        hook["clientConfig"]["caBundle"] = ca_bundle
    return config


@pytest.mark.parametrize("tag, fragment", [
    ("prod", None), ("default", None), ("a" * 43, None),
    ("Prod", "not a DNS-1123 label"), ("prod.stable", "not a DNS-1123 label"), ("", "not a DNS-1123 label"),
    ("a" * 44, "at most 43"),
])
def test_tag_names(tag, fragment):
    problems = tags.tag_problems(tag)
    assert (not problems) if fragment is None else any(fragment in p for p in problems)


@pytest.mark.parametrize("version, wanted", [("1.27.3", False), ("1.28.0", True), ("1.29.2", True), (None, True)])
def test_tag_service_from_1_28(version, wanted):
    assert tags.wants_tag_service(parse_version(version)) is wanted


def test_tag_webhook_labels_and_calls():
    body = tags.render_tag_webhook("prod", NEW, revision_config())
    assert body["metadata"]["name"] == "istio-revision-tag-prod"
    meta_labels = body["metadata"]["labels"]
    assert (meta_labels["istio.io/tag"], meta_labels["istio.io/rev"], meta_labels["app"]) == ("prod", NEW, "sidecar-injector")
    assert not [k for k in meta_labels if "operator.istio.io" in k]
    assert [h["name"] for h in body["webhooks"]] == ["rev.namespace.sidecar-injector.istio.io", "rev.object.sidecar-injector.istio.io"]
    for hook in body["webhooks"]:
        assert hook["clientConfig"] == {"service": {"name": "istiod-" + NEW, "namespace": "istio-system", "path": "/inject",
                                                    "port": 443}, "caBundle": "Q0E="}
        assert (hook["failurePolicy"], hook["sideEffects"], hook["reinvocationPolicy"]) == ("Fail", "None", "Never")


def test_tag_webhook_outside_istio_system_and_by_url():
    config = revision_config()
    for hook in config["webhooks"]:
        hook["clientConfig"] = {"url": "https://istiod.example.com:15017/inject/cluster/c1/net/n1"}
    body = tags.render_tag_webhook("prod", NEW, config, namespace="mesh")
    assert body["metadata"]["name"] == "istio-revision-tag-prod-mesh"
    assert body["webhooks"][0]["clientConfig"] == {"url": "https://istiod.example.com:15017/inject/cluster/c1/net/n1"}


@pytest.mark.parametrize("tag, ns_labels, pod_labels, injected", [
    ("prod", {"istio.io/rev": "prod"}, {}, True),
    ("prod", {"istio.io/rev": "prod", "istio-injection": "enabled"}, {}, False),
    ("prod", {}, {"istio.io/rev": "prod"}, True),
    ("prod", {"istio.io/rev": "prod"}, {"sidecar.istio.io/inject": "false"}, False),
    ("prod", {"istio-injection": "enabled"}, {}, False),
    ("default", {"istio-injection": "enabled"}, {}, True),
    ("default", {"istio.io/rev": "default"}, {}, True),
    ("default", {}, {"sidecar.istio.io/inject": "true"}, True),
    ("default", {}, {}, False),
])
def test_tag_webhook_selects_as_istio_does(tag, ns_labels, pod_labels, injected):
    body = tags.render_tag_webhook(tag, NEW, revision_config())
    decision = evaluate_injection([body], "apps", ns_labels, pod_labels)
    assert decision.injected is injected
    if injected:
        assert (decision.revision, decision.tag) == (NEW, tag)


def test_existing_tag_keeps_its_metadata_and_foreign_labels():
    existing = tags.render_tag_webhook("prod", "1-27-3", revision_config("1-27-3", "1.27.3"))
    existing["metadata"].update(resourceVersion="42", annotations={"team": "mesh"})
    existing["metadata"]["labels"]["owner"] = "platform"
    existing["metadata"]["labels"]["operator.istio.io/component"] = "Pilot"
    body = tags.render_tag_webhook("prod", NEW, revision_config(), existing=existing)
    assert (body["metadata"]["resourceVersion"], body["metadata"]["annotations"]) == ("42", {"team": "mesh"})
    assert body["metadata"]["labels"]["owner"] == "platform" and body["metadata"]["labels"]["istio.io/rev"] == NEW
    # kept, as istioctl tag set --overwrite (server-side apply by its own field manager) leaves the installer's labels
    assert body["metadata"]["labels"]["operator.istio.io/component"] == "Pilot"
    assert tags.differs(existing, body)
    back = tags.render_tag_webhook("prod", "1-27-3", revision_config("1-27-3", "1.27.3"), existing=body)
    assert back["metadata"]["labels"] == existing["metadata"]["labels"]


@pytest.mark.parametrize("revision, selector", [
    (NEW, {"app": "istiod", "istio.io/rev": NEW}),
    ("default", {"app": "istiod", "istio": "pilot"}),
])
def test_tag_service(revision, selector):
    body = tags.render_tag_service("prod", revision)
    assert (body["metadata"]["name"], body["metadata"]["namespace"]) == ("istiod-revision-tag-prod", "istio-system")
    assert body["spec"]["selector"] == selector
    assert body["metadata"]["labels"]["istio.io/tag"] == "prod"
    assert [p["port"] for p in body["spec"]["ports"]] == [15010, 15012, 443, 15014]


@pytest.mark.parametrize("existing_policy, policy", [(None, "Ignore"), ("Fail", "Fail"), ("Ignore", "Ignore")])
def test_default_validator(existing_policy, policy):
    existing = None
    if existing_policy:
        existing = controlplane.render_default_validator("1-27-3", "1.27.3")
        existing["webhooks"][0]["failurePolicy"] = existing_policy
    body = tags.render_default_validator(NEW, revision_config(), existing)
    assert body["metadata"]["name"] == "istiod-default-validator"
    assert (body["metadata"]["labels"]["istio.io/rev"], body["metadata"]["labels"]["istio.io/tag"]) == (NEW, "default")
    hook = body["webhooks"][0]
    assert hook["name"] == "validation.istio.io" and hook["failurePolicy"] == policy
    assert hook["clientConfig"] == {"service": {"name": "istiod-" + NEW, "namespace": "istio-system", "path": "/validate"},
                                    "caBundle": "Q0E="}
    assert "objectSelector" not in hook


def test_default_validator_by_url():
    config = revision_config()
    for hook in config["webhooks"]:
        hook["clientConfig"] = {"url": "https://istiod.example.com:15017/inject/cluster/c1/net/n1"}
    body = tags.render_default_validator(NEW, config)
    assert body["webhooks"][0]["clientConfig"] == {"url": "https://istiod.example.com:15017/validate"}


def test_revision_webhook_and_default_webhooks():
    default = revision_config("", "1.28.1")
    tagged = tags.render_tag_webhook("prod", NEW, revision_config())
    own = revision_config()
    configs = [default, tagged, own]
    assert tags.revision_webhook(configs, NEW) == [own]
    assert tags.revision_webhook(configs, "default") == [default]
    assert tags.revision_webhook(configs, "prod") == []
    assert tags.default_injector_webhooks(configs) == [default]


def test_deactivation_never_matches_and_is_detected():
    config = revision_config("", "1.28.1")
    off = tags.deactivated(config)
    assert tags.differs(config, off) and not tags.differs(off, tags.deactivated(off))
    assert not evaluate_injection([off], "apps", {"istio-injection": "enabled"}).injected
    assert config["webhooks"][0]["namespaceSelector"] != off["webhooks"][0]["namespaceSelector"]


def test_differs_ignores_server_defaults_but_not_selectors():
    body = tags.render_tag_webhook("prod", NEW, revision_config())
    served = tags.render_tag_webhook("prod", NEW, revision_config())
    for hook in served["webhooks"]:
        hook.update(timeoutSeconds=10, matchPolicy="Equivalent")
        hook["rules"][0]["scope"] = "*"
    assert not tags.differs(served, body)
    served["webhooks"][0]["namespaceSelector"]["matchLabels"] = {"extra": "x"}
    assert tags.differs(served, body)
    assert tags.differs(None, body)
