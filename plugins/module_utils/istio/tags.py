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

:func:`plan_present` and :func:`plan_absent` decide what revision_tag writes (a :class:`TagPlan`), after the checks
``istioctl tag set`` and ``tag remove`` make; the module only reads, writes the plan and reports.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import ControlPlane
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
# The kinds of a tag's objects, as the steps of a TagPlan name them.
MUTATING = "MutatingWebhookConfiguration"
VALIDATING = "ValidatingWebhookConfiguration"
SERVICE = "Service"
CREATED, UPDATED, DEACTIVATED, DELETED, UNCHANGED = "created", "updated", "deactivated", "deleted", "unchanged"
# How many pods still using a tag a refusal names.
USERS_SHOWN = 10


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


def option_problems(tag: str, revision: str | None, state: str) -> list[str]:
    """Why revision_tag's options cannot be used (tag name, revision name, revision given to state=absent)."""
    problems = tag_problems(tag)
    if revision is not None:
        problems += rev.revision_problems(revision)
    if state == "absent" and revision is not None:
        problems.append("revision is an option of state=present; remove it to delete the tag")
    return problems


class TagPlan:
    """The writes to make, in order: ``steps`` of ``(action, kind, existing, body)``; an unchanged object is a step
    too, so that the result lists every object of the tag."""

    def __init__(self) -> None:
        self.steps = []

    def put(self, kind: str, existing: dict | None, desired: dict, action: str = UPDATED) -> None:
        """Create ``desired``, or replace ``existing`` with it when it :func:`differs`; record an unchanged object."""
        if existing is None:
            self.steps.append((CREATED, kind, None, desired))
        elif differs(existing, desired):
            self.steps.append((action, kind, existing, desired))
        else:
            self.steps.append((UNCHANGED, kind, existing, existing))

    def delete(self, kind: str, existing: dict) -> None:
        """Delete ``existing``."""
        self.steps.append((DELETED, kind, existing, None))

    @property
    def changed(self) -> bool:
        """Whether any step writes."""
        return any(step[0] != UNCHANGED for step in self.steps)

    def objects(self) -> list[dict]:
        """The objects of the plan and what is done to each (``kind``, ``name``, ``namespace``, ``action``)."""
        return [{"kind": kind, "name": (body or existing)["metadata"]["name"],
                 "namespace": (body or existing)["metadata"].get("namespace"), "action": action}
                for action, kind, existing, body in self.steps]


def plan_present(tag: str, revision: str, namespace: str, plane: ControlPlane, mutating: list[dict],
                 validating: list[dict], services: list[dict], overwrite: bool = True,
                 require_ready: bool = True) -> tuple[TagPlan | None, str | None]:
    """The writes that point ``tag`` at ``revision`` as ``istioctl tag set`` does, or why they are refused.

    ``services`` are the Services labelled ``istio.io/tag=<tag>`` in ``namespace``. Returns ``(plan, None)``, or
    ``(None, problem)`` with the first of istioctl's refusals that applies: a tag named like a revision, a revision
    without istiod (or in another namespace, or not ready with ``require_ready``), a revision without exactly one
    injector webhook of its own, a tag pointing elsewhere without ``overwrite``.
    """
    revision = rev.canonical(revision)
    if tag != L.DEFAULT_TAG and (tag in plane.revisions or revision_webhook(mutating, tag)):
        return None, ("cannot create revision tag %s: a control plane revision has the same name; a tag may not hide "
                      "a revision. Choose another tag name" % tag)
    found = plane.revisions.get(revision)
    if found is None:
        known = ", ".join(sorted(plane.revisions)) or "none"
        return None, ("cannot point tag %s at revision %s: no istiod Deployment of that revision is installed "
                      "(installed revisions: %s). Install it first (meshops.istio.mesh_control_plane)" % (tag, revision, known))
    if found.namespace != namespace:
        return None, ("revision %s is installed in namespace %s, not %s: set namespace: %s"
                      % (revision, found.namespace, namespace, found.namespace))
    if require_ready and not found.ready:
        return None, ("cannot point tag %s at revision %s: its istiod %s/%s is not ready (%d of %d replicas); pods "
                      "using the tag could not be created. Wait for the rollout, or set require_ready: false"
                      % (tag, revision, found.namespace, found.deployment, found.ready_replicas, found.replicas))
    own = revision_webhook(mutating, revision)
    if len(own) != 1:
        return None, ("cannot point tag %s at revision %s: expected one MutatingWebhookConfiguration labelled "
                      "istio.io/rev=%s without istio.io/tag, found %d (%s); reinstall the revision's control plane"
                      % (tag, revision, revision, len(own), ", ".join(c["metadata"]["name"] for c in own) or "none"))
    current = plane.tags.get(tag)
    if current is not None and current.revision != revision and not overwrite:
        return None, ("revision tag %s already exists and points at revision %s; set overwrite: true to move it to %s"
                      % (tag, current.revision, revision))

    by_name = {c["metadata"]["name"]: c for c in mutating}
    plan = TagPlan()
    webhook_name = rev.tag_webhook_name(tag, namespace)
    plan.put(MUTATING, by_name.get(webhook_name), render_tag_webhook(tag, revision, own[0], namespace, by_name.get(webhook_name)))
    if tag == L.DEFAULT_TAG:
        validator = next((c for c in validating if c["metadata"]["name"] == L.DEFAULT_VALIDATOR), None)
        plan.put(VALIDATING, validator, render_default_validator(revision, own[0], validator))
    service = next((s for s in services if s["metadata"]["name"] == rev.tag_service_name(tag)), None)
    if wants_tag_service(found.version):
        plan.put(SERVICE, service, render_tag_service(tag, revision, namespace, service))
    elif service is not None:
        plan.delete(SERVICE, service)
    if tag == L.DEFAULT_TAG:
        for config in default_injector_webhooks(mutating):
            plan.put(MUTATING, config, deactivated(config), action=DEACTIVATED)
    return plan, None


def plan_absent(tag: str, mutating: list[dict], validating: list[dict], services: list[dict]) -> TagPlan:
    """The deletions that remove ``tag`` as ``istioctl tag remove`` does: every webhook configuration and Service
    labelled ``istio.io/tag=<tag>``."""
    plan = TagPlan()
    labelled = [(MUTATING, c) for c in mutating or []] + [(VALIDATING, c) for c in validating or []]
    labelled += [(SERVICE, s) for s in services or []]
    for kind, obj in labelled:
        if ((obj.get("metadata") or {}).get("labels") or {}).get(L.TAG) == tag:
            plan.delete(kind, obj)
    return plan


def removal_problem(tag: str, namespaces: list[str], pods: list[dict]) -> str | None:
    """Why ``tag`` may not be removed: the namespaces that use it (inuse.namespaces_using_tag) and the pods labelled
    ``istio.io/rev=<tag>``; None when nothing uses it."""
    if not namespaces and not pods:
        return None
    users = ["namespace %s" % name for name in namespaces]
    users += ["pod %s/%s" % (p["metadata"].get("namespace"), p["metadata"]["name"]) for p in pods[:USERS_SHOWN]]
    if len(pods) > USERS_SHOWN:
        users.append("%d more pods" % (len(pods) - USERS_SHOWN))
    return ("cannot remove revision tag %s: still in use by %s. Move them to a revision first "
            "(meshops.istio.namespace_revision), or set force: true" % (tag, ", ".join(users)))
