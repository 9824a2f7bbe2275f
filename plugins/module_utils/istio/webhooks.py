# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Istio sidecar-injector webhook a new pod meets, and which revision injects it.

Works on the MutatingWebhookConfigurations present (plain dicts), a namespace's labels and a pod template's
labels and annotations, as the API server and istiod do:

* the API server calls every mutating webhook whose rules cover pod CREATE and whose namespaceSelector and
  objectSelector match, configurations in name order, webhooks in listed order;
* each matching Istio webhook is served by the istiod of the configuration's ``istio.io/rev`` label; a tag's
  configuration carries ``istio.io/tag`` and the ``istio.io/rev`` of the revision it points at;
* istiod skips host-network pods, the Kubernetes system namespaces and pods whose ``sidecar.istio.io/inject``
  label (or, without the label, annotation) is ``false``;
* when several webhooks match, each re-injects the pod, so the pod ends up with the revision of the *last* one
  (Istio's IST0139 "injection to occur twice"); the result names the first and every match.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.selector import matches

INJECTOR_WEBHOOK_SUFFIX = "sidecar-injector.istio.io"
# The webhook only the default revision (or the default tag) has: it serves istio-injection=enabled.
DEFAULT_NAMESPACE_WEBHOOK = "namespace." + INJECTOR_WEBHOOK_SUFFIX


@dataclass(frozen=True)
class InjectorWebhook:
    """One Istio injector webhook of a MutatingWebhookConfiguration."""

    configuration: str
    name: str
    revision: str
    tag: str | None
    failure_policy: str
    service: str | None
    deactivated: bool
    namespace_selector: dict | None = field(default=None, compare=False, repr=False)
    object_selector: dict | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {"configuration": self.configuration, "webhook": self.name, "revision": self.revision, "tag": self.tag,
                "failure_policy": self.failure_policy, "service": self.service, "deactivated": self.deactivated}


@dataclass(frozen=True)
class InjectionDecision:
    """What happens to a new pod: whether it gets a sidecar, from which revision, through which webhook."""

    injected: bool
    revision: str | None
    tag: str | None
    webhook: InjectorWebhook | None
    matched: tuple = ()
    reason: str = ""

    @property
    def overlap(self) -> bool:
        """True when more than one injector webhook matches (the pod would be injected more than once)."""
        return len(self.matched) > 1

    def as_dict(self) -> dict:
        """A plain dict for module results."""
        return {
            "injected": self.injected,
            "revision": self.revision,
            "tag": self.tag,
            "webhook": self.webhook.as_dict() if self.webhook else None,
            "matched": [hook.as_dict() for hook in self.matched],
            "overlap": self.overlap,
            "reason": self.reason,
        }


def injector_webhooks(configurations: list[dict]) -> list[InjectorWebhook]:
    """The Istio injector webhooks that act on pod CREATE, in the order the API server calls them."""
    result = []
    for config in sorted(configurations or [], key=lambda c: (c.get("metadata") or {}).get("name", "")):
        meta = config.get("metadata") or {}
        config_labels = meta.get("labels") or {}
        for hook in config.get("webhooks") or []:
            name = hook.get("name") or ""
            if not name.endswith(INJECTOR_WEBHOOK_SUFFIX) or not _acts_on_pod_create(hook):
                continue
            service = (hook.get("clientConfig") or {}).get("service")
            result.append(InjectorWebhook(
                configuration=meta.get("name", ""),
                name=name,
                revision=rev.canonical(config_labels.get(L.REV)),
                tag=config_labels.get(L.TAG),
                failure_policy=hook.get("failurePolicy") or "Fail",
                service="%s/%s" % (service.get("namespace"), service.get("name")) if service else None,
                deactivated=_is_deactivated(hook),
                namespace_selector=hook.get("namespaceSelector"),
                object_selector=hook.get("objectSelector"),
            ))
    return result


def evaluate_injection(configurations: list[dict], namespace: str, namespace_labels: dict | None,
                       pod_labels: dict | None = None, pod_annotations: dict | None = None,
                       host_network: bool = False) -> InjectionDecision:
    """Decide whether a pod created now in ``namespace`` gets a sidecar, and from which revision.

    ``configurations`` are the MutatingWebhookConfigurations present; ``namespace_labels`` the namespace's labels
    (``kubernetes.io/metadata.name`` is added as the API server does); ``pod_labels``/``pod_annotations`` those of
    the pod template.
    """
    ns_labels = dict(namespace_labels or {})
    ns_labels.setdefault(L.NAMESPACE_NAME, namespace)
    pod_labels = pod_labels or {}
    matched = tuple(hook for hook in injector_webhooks(configurations)
                    if matches(hook.namespace_selector, ns_labels) and matches(hook.object_selector, pod_labels))
    if not matched:
        return InjectionDecision(False, None, None, None, (), _no_match_reason(ns_labels, pod_labels))
    first, last = matched[0], matched[-1]
    refusal = _injector_refusal(namespace, pod_labels, pod_annotations or {}, host_network)
    if refusal:
        return InjectionDecision(False, None, None, first, matched, refusal)
    reason = "webhook %s of %s matches; revision %s injects" % (first.name, first.configuration, last.revision)
    if len(matched) > 1:
        reason += ("; %d injector webhooks match (%s), so the pod is injected %d times and keeps the last one's revision"
                   % (len(matched), ", ".join("%s/%s" % (h.configuration, h.name) for h in matched), len(matched)))
    return InjectionDecision(True, last.revision, last.tag, first, matched, reason)


def injection_for_namespace(namespace_labels: dict | None) -> dict:
    """What a namespace's injection labels mean, without looking at webhooks.

    Returns ``{"mode": ..., "revision": ..., "istio_injection": ..., "rev_label": ...}`` where mode is
    ``enabled`` (``istio-injection=enabled``: the default revision), ``revision`` (``istio.io/rev=X``),
    ``both`` (both labels: ``istio-injection`` wins, the default revision injects), ``disabled``
    (``istio-injection`` set to anything but ``enabled``: no injection) or ``none`` (no label).
    """
    ns_labels = namespace_labels or {}
    injection = ns_labels.get(L.ISTIO_INJECTION)
    rev_label = ns_labels.get(L.REV)
    if injection is not None and injection != L.INJECTION_ENABLED:
        mode, revision = "disabled", None
    elif injection == L.INJECTION_ENABLED:
        mode, revision = ("both" if rev_label is not None else "enabled"), L.DEFAULT_REVISION
    elif rev_label is not None:
        mode, revision = "revision", rev_label
    else:
        mode, revision = "none", None
    return {"mode": mode, "revision": revision, "istio_injection": injection, "rev_label": rev_label}


def _acts_on_pod_create(hook: dict) -> bool:
    for rule in hook.get("rules") or []:
        if (_covers(rule.get("operations"), "CREATE") and _covers(rule.get("resources"), "pods")
                and _covers(rule.get("apiGroups"), "") and _covers(rule.get("apiVersions"), "v1")):
            return True
    return False


def _covers(values: list | None, wanted: str) -> bool:
    return bool(values) and (wanted in values or "*" in values)


def _is_deactivated(hook: dict) -> bool:
    for selector in (hook.get("namespaceSelector"), hook.get("objectSelector")):
        if ((selector or {}).get("matchLabels") or {}).get(L.DEACTIVATED) == L.NEVER_MATCH:
            return True
    return False


def _injector_refusal(namespace: str, pod_labels: dict, pod_annotations: dict, host_network: bool) -> str:
    if host_network:
        return "istiod never injects host-network pods"
    if namespace in L.IGNORED_NAMESPACES:
        return "istiod never injects pods in the system namespace %s" % namespace
    choice = pod_labels.get(L.SIDECAR_INJECT, pod_annotations.get(L.SIDECAR_INJECT))
    if choice == "false":
        return "the pod's %s is \"false\"" % L.SIDECAR_INJECT
    return ""


def _no_match_reason(ns_labels: dict, pod_labels: dict) -> str:
    summary = injection_for_namespace(ns_labels)
    if summary["mode"] == "disabled":
        return "namespace has %s=%s" % (L.ISTIO_INJECTION, summary["istio_injection"])
    if summary["mode"] in ("enabled", "both"):
        return ("namespace has %s=enabled but no active webhook of the default revision serves it"
                % L.ISTIO_INJECTION)
    if summary["mode"] == "revision":
        return "namespace has %s=%s but no active webhook serves that revision or tag" % (L.REV, summary["revision"])
    if pod_labels.get(L.REV) or pod_labels.get(L.SIDECAR_INJECT):
        return "no active injector webhook matches the pod's labels"
    return "neither the namespace nor the pod selects injection"
