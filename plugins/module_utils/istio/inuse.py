# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether an istiod revision is still in use, and by what: the report that guards its removal.

A revision is in use (compare the sail operator's ``InUse`` condition, ISTIO.md section 7) when any of these holds:

* a namespace's labels select it: ``istio.io/rev=<R>``, ``istio.io/rev=<T>`` for a tag ``T`` pointing at it,
  ``istio.io/rev=default`` or ``istio-injection=enabled`` when it is the default revision (``istio-injection``
  wins over ``istio.io/rev``, ``istio-injection`` set to anything else disables injection);
* a running pod carries a sidecar it injected (``sidecar.istio.io/status`` ``revision``, or the pod's
  ``istio.io/rev`` annotation);
* a gateway runs on it: a workload whose pod template asks for the ``gateway`` injection template and carries
  ``istio.io/rev`` naming the revision or one of its tags;
* a revision tag points at it (``istio-revision-tag-<T>`` with ``istio.io/rev=<R>``);
* ``istiod-default-validator`` is labelled ``istio.io/rev=<R>``.

Pure: input are plain dicts and the :class:`ControlPlane` found by ``controlplane.discover``.
"""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import ControlPlane
from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import parse_sidecar
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import injection_for_namespace

FINISHED_POD_PHASES = frozenset(("Succeeded", "Failed"))
REPORT_KEYS = ("namespaces", "pods", "gateways", "tags", "default_validator")


def names_for(revision: str, plane: ControlPlane) -> set[str]:
    """Every ``istio.io/rev`` value that selects ``revision``: itself, its tags, and ``default`` if it is the default."""
    revision = rev.canonical(revision)
    names = {revision}
    names.update(tag.name for tag in plane.tags.values() if tag.revision == revision)
    if plane.default_revision == revision:
        names.add(L.DEFAULT_REVISION)
    return names


def selected_name(namespace_labels: dict | None) -> tuple[str | None, str | None]:
    """The ``istio.io/rev`` value (a revision, a tag, or ``default``) whose injector webhooks serve a namespace's new
    pods, and the label that selects it; ``(None, None)`` when its labels select none.

    As the webhooks' namespaceSelectors have it (istio-discovery ``mutatingwebhook.yaml``, the tag webhooks alike):
    ``istio-injection=enabled`` is served by the default revision's ``namespace.`` webhook only, and every
    ``rev.namespace.`` webhook requires ``istio-injection`` to be absent, so ``istio-injection`` wins over
    ``istio.io/rev``; ``istio-injection`` set to anything else selects nothing.
    """
    summary = injection_for_namespace(namespace_labels)
    if summary["mode"] in ("enabled", "both"):
        return L.DEFAULT_REVISION, "%s=%s" % (L.ISTIO_INJECTION, L.INJECTION_ENABLED)
    if summary["mode"] == "revision":
        return summary["rev_label"], "%s=%s" % (L.REV, summary["rev_label"])
    return None, None


def namespace_user(namespace: dict, revision: str, plane: ControlPlane) -> dict | None:
    """How a namespace's labels select ``revision`` (``{"name", "label", "through"}``), or None when they do not."""
    meta = namespace.get("metadata") or {}
    value, label = selected_name(meta.get("labels"))
    revision = rev.canonical(revision)
    if value is None:
        return None
    if label.startswith(L.ISTIO_INJECTION):
        if plane.default_revision != revision:
            return None
        through = "default revision"
    elif value == revision:
        through = "revision"
    elif value in plane.tags and plane.tags[value].revision == revision:
        through = "tag %s" % value
    elif value == L.DEFAULT_REVISION and plane.default_revision == revision:
        through = "default revision"
    else:
        return None
    return {"name": meta.get("name", ""), "label": label, "through": through}


def namespaces_using_tag(namespaces: list[dict], tag: str) -> list[str]:
    """The names of the namespaces whose new pods the tag's webhooks serve (sorted): ``istio.io/rev=<tag>`` without
    ``istio-injection``; for the ``default`` tag also ``istio-injection=enabled`` (see :func:`selected_name`)."""
    return sorted((ns.get("metadata") or {}).get("name", "") for ns in namespaces or []
                  if selected_name((ns.get("metadata") or {}).get("labels"))[0] == tag)


def pod_user(pod: dict, revision: str) -> dict | None:
    """A running pod whose sidecar ``revision`` injected (``{"namespace", "name", "gateway"}``), or None."""
    if ((pod.get("status") or {}).get("phase")) in FINISHED_POD_PHASES:
        return None
    sidecar = parse_sidecar(pod)
    if not sidecar.present or sidecar.revision is None or rev.canonical(sidecar.revision) != rev.canonical(revision):
        return None
    meta = pod.get("metadata") or {}
    return {"namespace": meta.get("namespace", ""), "name": meta.get("name", ""), "gateway": sidecar.gateway}


def gateway_user(workload: dict, selecting: set[str]) -> dict | None:
    """A gateway workload whose pod template's ``istio.io/rev`` is one of ``selecting``, or None."""
    template_meta = (((workload.get("spec") or {}).get("template") or {}).get("metadata")) or {}
    if (template_meta.get("annotations") or {}).get(L.INJECT_TEMPLATES) != L.GATEWAY_TEMPLATE:
        return None
    value = (template_meta.get("labels") or {}).get(L.REV)
    if value is None or value not in selecting:
        return None
    meta = workload.get("metadata") or {}
    return {"kind": workload.get("kind", "Deployment"), "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""), "label": "%s=%s" % (L.REV, value)}


def in_use_report(revision: str, plane: ControlPlane, namespaces: list[dict], pods: list[dict],
                  workloads: list[dict]) -> dict:
    """Everything that uses ``revision``; every list empty and ``default_validator`` false when nothing does.

    ``workloads`` are the Deployments (or other pod-template owners) searched for gateways.
    """
    revision = rev.canonical(revision)
    selecting = names_for(revision, plane)
    users = [namespace_user(ns, revision, plane) for ns in namespaces or []]
    pod_users = [pod_user(pod, revision) for pod in pods or []]
    gateway_users = [gateway_user(workload, selecting) for workload in workloads or []]
    return {
        "namespaces": sorted((u for u in users if u), key=lambda u: u["name"]),
        "pods": sorted((u for u in pod_users if u), key=lambda u: (u["namespace"], u["name"])),
        "gateways": sorted((u for u in gateway_users if u), key=lambda u: (u["namespace"], u["name"])),
        "tags": sorted(tag.name for tag in plane.tags.values() if tag.revision == revision),
        "default_validator": plane.default_validator_revision == revision,
    }


def is_in_use(report: dict) -> bool:
    """True when the report names anything that uses the revision."""
    return any(report.get(key) for key in REPORT_KEYS)


def describe_users(report: dict, limit: int = 10) -> str:
    """A readable summary of the report: ``namespaces shop (istio.io/rev=1-28-1); pods shop/a; tags prod``."""
    parts = []

    def listed(title: str, items: list[str]) -> None:
        if items:
            shown = ", ".join(items[:limit]) + (" and %d more" % (len(items) - limit) if len(items) > limit else "")
            parts.append("%s %s" % (title, shown))

    listed("namespaces", ["%s (%s)" % (u["name"], u["label"]) for u in report.get("namespaces") or []])
    listed("pods", ["%s/%s" % (u["namespace"], u["name"]) for u in report.get("pods") or []])
    listed("gateways", ["%s/%s (%s)" % (u["namespace"], u["name"], u["label"]) for u in report.get("gateways") or []])
    listed("tags", list(report.get("tags") or []))
    if report.get("default_validator"):
        parts.append("%s points at it" % L.DEFAULT_VALIDATOR)
    return "; ".join(parts)
