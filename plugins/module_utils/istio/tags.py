# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Revision tags as ``istioctl tag set`` writes them, rendered from the target revision's own webhook.

Pure functions on plain dicts. A tag ``T -> R`` is:

* the MutatingWebhookConfiguration ``istio-revision-tag-<T>`` (labels ``istio.io/tag=T``, ``istio.io/rev=R``,
  ``app=sidecar-injector``), webhooks ``rev.namespace.``/``rev.object.`` selecting ``istio.io/rev In [T]``, plus
  ``namespace.``/``object.`` for ``T=default``; each calls R's injector exactly as R's own webhook does (service or
  URL, path, caBundle, reinvocationPolicy copied from it), as the chart template ``revision-tags-mwc.yaml`` renders;
* from Istio 1.28 the Service ``istiod-revision-tag-<T>`` selecting R's istiod (``revision-tags-svc.yaml``);
* for ``T=default`` also the ValidatingWebhookConfiguration ``istiod-default-validator`` calling R's
  ``/validate``, and the untagged default webhook ``istio-sidecar-injector`` deactivated (its selectors set to
  never match) so that ``istio-injection=enabled`` is not injected twice.

Labels containing ``operator.istio.io`` are never set from the revision's webhook (istioctl strips them from the
user-managed tag it generates, so that an uninstall of a revision does not prune a tag it creates). The labels an
existing object already has are kept, theirs included, and only those the rendering sets are changed: istioctl
applies the tag server-side with its own field manager, which leaves the labels another installer set (the
chart's ``operator.istio.io/component`` and ``install.operator.istio.io/owning-resource``) in place.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.version import IstioVersion
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import INJECTOR_WEBHOOK_SUFFIX

ADMISSION_API = "admissionregistration.k8s.io/v1"
OPERATOR_LABEL_PART = "operator.istio.io"
# The tag Service istiod-revision-tag-<T> exists from Istio 1.28 (revision-tags-svc.yaml).
TAG_SERVICE_SINCE = (1, 28)
# istiod-revision-tag-<T> must stay a DNS-1123 label (63 characters).
TAG_MAX = 63 - len(L.REVISION_TAG_SERVICE_PREFIX)
VALIDATION_WEBHOOK = "validation.istio.io"
VALIDATED_GROUPS = ("security.istio.io", "networking.istio.io", "telemetry.istio.io", "extensions.istio.io")
NEVER_MATCH_SELECTOR = {"matchLabels": {L.DEACTIVATED: L.NEVER_MATCH}}
SELECTOR_KEYS = ("namespaceSelector", "objectSelector")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def tag_problems(tag: str) -> list[str]:
    """Why ``tag`` cannot be a revision tag name; an empty list when it can."""
    problems = []
    if not _DNS1123_LABEL.match(tag or ""):
        problems.append("tag %r is not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending "
                        "with a letter or digit" % (tag,))
    if len(tag or "") > TAG_MAX:
        problems.append("tag %r is %d characters long; at most %d are allowed so that %s<tag> stays a DNS-1123 label"
                        % (tag, len(tag), TAG_MAX, L.REVISION_TAG_SERVICE_PREFIX))
    return problems


def wants_tag_service(version: IstioVersion | None) -> bool:
    """Whether a tag on a revision of ``version`` has a Service (1.28 and later; unknown versions count as new)."""
    return version is None or (version.major, version.minor) >= TAG_SERVICE_SINCE


def strip_operator_labels(labels: dict | None) -> dict:
    """The labels without those containing ``operator.istio.io``."""
    return {k: v for k, v in (labels or {}).items() if OPERATOR_LABEL_PART not in k}


def kept_labels(body: dict, rendered: dict) -> dict:
    """The labels of a tag object: those ``body`` (a copy of the existing object, or a new one) has, all kept, with
    the ``rendered`` ones set over them (never an operator label), as istioctl's server-side apply leaves them."""
    return dict((body.get("metadata") or {}).get("labels") or {}, **strip_operator_labels(rendered))


def revision_webhook(configurations: list[dict], revision: str) -> list[dict]:
    """The revision's own (untagged) injector MutatingWebhookConfigurations; istioctl needs exactly one."""
    wanted = rev.canonical(revision)
    found = []
    for config in configurations or []:
        meta_labels = (config.get("metadata") or {}).get("labels") or {}
        if L.TAG in meta_labels or rev.canonical(meta_labels.get(L.REV)) != wanted or L.REV not in meta_labels:
            continue
        if any((hook.get("name") or "").endswith(INJECTOR_WEBHOOK_SUFFIX) for hook in config.get("webhooks") or []):
            found.append(config)
    return found


def injector_call(revision_config: dict) -> dict:
    """How the revision's webhook calls its injector: ``clientConfig`` and ``reinvocationPolicy`` of its first
    injector webhook. Raises ValueError when it has none."""
    for hook in revision_config.get("webhooks") or []:
        if (hook.get("name") or "").endswith(INJECTOR_WEBHOOK_SUFFIX):
            return {"clientConfig": copy.deepcopy(hook.get("clientConfig") or {}),
                    "reinvocationPolicy": hook.get("reinvocationPolicy") or "Never"}
    raise ValueError("MutatingWebhookConfiguration %s has no sidecar-injector webhook"
                     % (revision_config.get("metadata") or {}).get("name"))


def render_tag_webhook(tag: str, revision: str, revision_config: dict, namespace: str = L.ISTIO_SYSTEM,
                       existing: dict | None = None) -> dict:
    """The tag's MutatingWebhookConfiguration ``istio-revision-tag-<T>`` pointing at ``revision``.

    Labels are R's webhook labels (without ``app`` and operator labels) with the tag's own; an ``existing``
    object keeps its other labels (operator labels included), its annotations and its metadata (resourceVersion for
    the update), as ``istioctl tag set --overwrite`` leaves them.
    """
    call = injector_call(revision_config)
    tag_labels = {k: v for k, v in strip_operator_labels((revision_config.get("metadata") or {}).get("labels")).items()
                  if k != L.APP}
    tag_labels.update({L.TAG: tag, L.REV: rev.canonical(revision), L.APP: L.APP_SIDECAR_INJECTOR})
    not_disabled = _expr(L.SIDECAR_INJECT, "NotIn", ["false"])
    webhooks = [
        _injector_hook("rev.namespace.", call,
                       {"matchExpressions": [_expr(L.REV, "In", [tag]), _expr(L.ISTIO_INJECTION, "DoesNotExist")]},
                       {"matchExpressions": [not_disabled]}),
        _injector_hook("rev.object.", call,
                       {"matchExpressions": [_expr(L.REV, "DoesNotExist"), _expr(L.ISTIO_INJECTION, "DoesNotExist")]},
                       {"matchExpressions": [dict(not_disabled), _expr(L.REV, "In", [tag])]}),
    ]
    if tag == L.DEFAULT_TAG:
        webhooks += [
            _injector_hook("namespace.", call, {"matchExpressions": [_expr(L.ISTIO_INJECTION, "In", [L.INJECTION_ENABLED])]},
                           {"matchExpressions": [dict(not_disabled)]}),
            _injector_hook("object.", call,
                           {"matchExpressions": [_expr(L.ISTIO_INJECTION, "DoesNotExist"), _expr(L.REV, "DoesNotExist")]},
                           {"matchExpressions": [_expr(L.SIDECAR_INJECT, "In", ["true"]), _expr(L.REV, "DoesNotExist")]}),
        ]
    body = _based_on(existing, ADMISSION_API, "MutatingWebhookConfiguration", rev.tag_webhook_name(tag, namespace), None)
    body["metadata"]["labels"] = kept_labels(body, tag_labels)
    body["webhooks"] = webhooks
    return body


def render_tag_service(tag: str, revision: str, namespace: str = L.ISTIO_SYSTEM, existing: dict | None = None) -> dict:
    """The tag's Service ``istiod-revision-tag-<T>`` selecting the istiod pods of ``revision``."""
    canonical = rev.canonical(revision)
    selector = {L.APP: L.APP_ISTIOD, L.REV: canonical} if not rev.is_default(revision) else {L.APP: L.APP_ISTIOD, L.ISTIO: L.ISTIO_PILOT}
    body = _based_on(existing, "v1", "Service", rev.tag_service_name(tag), namespace)
    body["metadata"]["labels"] = kept_labels(body, {
        L.REV: canonical, L.TAG: tag, L.APP: L.APP_ISTIOD, L.ISTIO: L.ISTIO_PILOT, L.APP_KUBERNETES_NAME: L.ISTIOD})
    spec = body.setdefault("spec", {})
    spec["ports"] = [{"port": 15010, "name": "grpc-xds", "protocol": "TCP"},
                     {"port": 15012, "name": "https-dns", "protocol": "TCP"},
                     {"port": 443, "name": "https-webhook", "targetPort": 15017, "protocol": "TCP"},
                     {"port": 15014, "name": "http-monitoring", "protocol": "TCP"}]
    spec["selector"] = selector
    return body


def render_default_validator(revision: str, revision_config: dict, existing: dict | None = None) -> dict:
    """``istiod-default-validator`` calling the ``/validate`` endpoint of ``revision``'s istiod.

    The service (or URL) and caBundle come from the revision's injector webhook, as istioctl does. An existing
    validator keeps its failurePolicy (istiod sets it to Fail once it serves); a new one fails open (Ignore)
    until istiod patches it.
    """
    client = injector_call(revision_config)["clientConfig"]
    if client.get("service"):
        client["service"] = {k: v for k, v in client["service"].items() if k != "port"}
        client["service"]["path"] = "/validate"
    elif client.get("url"):
        client["url"] = re.sub(r"^(\w+://[^/]+)(/.*)?$", r"\1/validate", client["url"])
    old_hooks = {h.get("name"): h for h in (existing or {}).get("webhooks") or []}
    failure_policy = (old_hooks.get(VALIDATION_WEBHOOK) or {}).get("failurePolicy") or "Ignore"
    body = _based_on(existing, ADMISSION_API, "ValidatingWebhookConfiguration", L.DEFAULT_VALIDATOR, None)
    body["metadata"]["labels"] = kept_labels(body, {
        L.APP: L.APP_ISTIOD, L.ISTIO: L.ISTIO_ISTIOD, L.REV: rev.canonical(revision), L.TAG: L.DEFAULT_TAG,
        L.APP_KUBERNETES_NAME: L.ISTIOD})
    body["webhooks"] = [{
        "name": VALIDATION_WEBHOOK,
        "clientConfig": client,
        "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": list(VALIDATED_GROUPS), "apiVersions": ["*"],
                   "resources": ["*"]}],
        "failurePolicy": failure_policy,
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
    }]
    return body


def default_injector_webhooks(configurations: list[dict]) -> list[dict]:
    """The untagged webhook configurations of the default revision (``istio.io/rev=default``, no ``istio.io/tag``)."""
    found = []
    for config in configurations or []:
        meta_labels = (config.get("metadata") or {}).get("labels") or {}
        if meta_labels.get(L.REV) == L.DEFAULT_REVISION and L.TAG not in meta_labels:
            found.append(config)
    return found


def deactivated(config: dict) -> dict:
    """A copy of ``config`` whose webhooks never match (``istioctl tag set default`` does this to the untagged
    default webhook, which it keeps instead of deleting)."""
    body = copy.deepcopy(config)
    for hook in body.get("webhooks") or []:
        hook["namespaceSelector"] = copy.deepcopy(NEVER_MATCH_SELECTOR)
        hook["objectSelector"] = copy.deepcopy(NEVER_MATCH_SELECTOR)
    return body


def differs(existing: dict | None, desired: dict) -> bool:
    """Whether writing ``desired`` would change ``existing``.

    Compares the labels and the parts the rendering sets (webhooks, Service ports and selector). Fields the API
    server adds by default (timeoutSeconds, matchPolicy, clusterIP, ...) do not count; label selectors must be
    equal, since a selector with more terms matches less.
    """
    if existing is None:
        return True
    if (existing.get("metadata") or {}).get("labels") != desired["metadata"].get("labels"):
        return True
    for key in ("webhooks", "spec"):
        if key in desired and not _covers(existing.get(key), desired[key]):
            return True
    return False


def _covers(actual, wanted, key: str = "") -> bool:
    if key in SELECTOR_KEYS or key == "selector":
        return (actual or {}) == (wanted or {})
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(_covers(actual.get(k), v, k) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(actual) == len(wanted) and all(
            _covers(a, w, key) for a, w in zip(actual, wanted))
    return actual == wanted


def _based_on(existing: dict | None, api_version: str, kind: str, name: str, namespace: str | None) -> dict:
    if existing is not None:
        body = copy.deepcopy(existing)
        body["apiVersion"], body["kind"] = api_version, kind
        body["metadata"].pop("managedFields", None)
        return body
    meta = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def _injector_hook(prefix: str, call: dict, namespace_selector: dict, object_selector: dict) -> dict:
    return {
        "name": prefix + INJECTOR_WEBHOOK_SUFFIX,
        "clientConfig": copy.deepcopy(call["clientConfig"]),
        "sideEffects": "None",
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "failurePolicy": "Fail",
        "reinvocationPolicy": call["reinvocationPolicy"],
        "admissionReviewVersions": ["v1"],
        "namespaceSelector": namespace_selector,
        "objectSelector": object_selector,
    }


def _expr(key: str, operator: str, values: list | None = None) -> dict:
    expr = {"key": key, "operator": operator}
    if values is not None:
        expr["values"] = values
    return expr
