# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the mesh's control plane and namespaces in four LIST requests, and describe them with the Istio rules.

The glue between the I/O layer (k8s/) and the pure rules (istio/): one paginated LIST each of istiod Deployments
(``app=istiod``, all namespaces), MutatingWebhookConfigurations, ValidatingWebhookConfigurations and Namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import ControlPlane, discover
from ansible_collections.meshops.istio.plugins.module_utils.istio.webhooks import (
    evaluate_injection,
    injection_for_namespace,
    injector_webhooks,
)
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R


@dataclass
class MeshSnapshot:
    """The objects read, and the control plane found in them."""

    deployments: list = field(default_factory=list)
    mutating_webhooks: list = field(default_factory=list)
    validating_webhooks: list = field(default_factory=list)
    namespaces: list = field(default_factory=list)
    control_plane: ControlPlane = field(default_factory=ControlPlane)


def read_control_plane(api) -> MeshSnapshot:
    """LIST istiod Deployments and both kinds of webhook configurations; no namespaces."""
    snapshot = MeshSnapshot(
        deployments=api.list(R.DEPLOYMENTS.path(), label_selector="%s=%s" % (L.APP, L.APP_ISTIOD)),
        mutating_webhooks=api.list(R.MUTATING_WEBHOOKS.path()),
        validating_webhooks=api.list(R.VALIDATING_WEBHOOKS.path()),
    )
    snapshot.control_plane = discover(snapshot.deployments, snapshot.mutating_webhooks, snapshot.validating_webhooks)
    return snapshot


def read_mesh(api, namespace_selector: str | None = None) -> MeshSnapshot:
    """The control plane plus the namespaces (narrowed server-side by a label selector in query-string form)."""
    snapshot = read_control_plane(api)
    snapshot.namespaces = api.list(R.NAMESPACES.path(), label_selector=namespace_selector or None)
    return snapshot


def describe_namespace(namespace: dict, mutating_webhooks: list, control_plane: ControlPlane) -> dict:
    """A namespace's injection labels, what they mean, and what a new plain pod there would get."""
    meta = namespace.get("metadata") or {}
    name = meta.get("name", "")
    ns_labels = meta.get("labels") or {}
    summary = injection_for_namespace(ns_labels)
    decision = evaluate_injection(mutating_webhooks, name, ns_labels)
    version = None
    if decision.injected and decision.revision in control_plane.revisions:
        found = control_plane.revisions[decision.revision].version
        version = found.release if found else None
    return {
        "name": name,
        "istio_injection": summary["istio_injection"],
        "rev_label": summary["rev_label"],
        "injection": summary["mode"],
        "injected": decision.injected,
        "revision": decision.revision,
        "tag": decision.tag,
        "version": version,
        "webhook": decision.webhook.as_dict() if decision.webhook else None,
        "overlap": decision.overlap,
        "reason": decision.reason,
    }


def describe_webhooks(mutating_webhooks: list) -> list[dict]:
    """Every Istio injector webhook, in the order the API server calls them."""
    return [hook.as_dict() for hook in injector_webhooks(mutating_webhooks)]
