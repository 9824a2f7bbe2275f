# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Istio gateways as Deployments: which ones are injected, the revision their pod template selects, and the changes
that move them to another revision in place or through a canary Deployment (pure: input are plain dicts).

* An *injected* gateway (``istio/gateway`` chart, docs additional-setup/gateway) has an ``istio-proxy`` container
  with ``image: auto`` and/or the pod annotation ``inject.istio.io/templates: gateway``; the injector of the revision
  its labels select fills the container in. It moves by changing the pod template's ``istio.io/rev`` label.
* An istioctl-profile gateway carries the real ``proxyv2`` image and ``sidecar.istio.io/inject: "false"``: no
  injector touches it, ``istioctl install --revision R`` rewrites it in place. It cannot be moved by labels.
* The pod template keeps ``sidecar.istio.io/inject: "true"`` beside ``istio.io/rev`` (as the chart renders it): the
  default revision's ``object.`` webhook requires ``istio.io/rev`` to be absent, so only ``rev.object.`` of the
  selected revision matches. A ``"false"`` (label, or annotation without label) would block every injector and is
  turned into the label ``"true"``.
* A canary is ``<name>-canary``: a copy of the gateway with the same selector and pod labels (so the gateway's
  Service sends it a share of the traffic) on the new revision, marked with the annotation :data:`CANARY_OF`.
"""

from __future__ import annotations

import copy

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L
from ansible_collections.meshops.istio.plugins.module_utils.istio.sidecar import proxy_container

INJECTED = "injected"
NOT_INJECTED = "not_injected"
NOT_A_GATEWAY = "not_a_gateway"

CANARY_SUFFIX = "-canary"
# Annotation on the canary Deployments this collection creates: the name of the gateway Deployment it belongs to.
CANARY_OF = "meshops.istio/canary-of"
# Metadata the canary does not copy from its gateway: Helm's ownership and server- or tool-maintained values.
_NOT_COPIED_LABELS = frozenset(("app.kubernetes.io/managed-by",))


def pod_template(deployment: dict) -> dict:
    """The pod template (``spec.template``) of a Deployment; an empty dict when missing."""
    return (deployment.get("spec") or {}).get("template") or {}


def template_labels(deployment: dict) -> dict:
    """The pod template's labels (a copy)."""
    return dict((pod_template(deployment).get("metadata") or {}).get("labels") or {})


def template_annotations(deployment: dict) -> dict:
    """The pod template's annotations (a copy)."""
    return dict((pod_template(deployment).get("metadata") or {}).get("annotations") or {})


def inject_choice(pod_labels: dict, pod_annotations: dict) -> str | None:
    """The effective ``sidecar.istio.io/inject`` value: the label wins over the annotation, as in istiod."""
    if L.SIDECAR_INJECT in pod_labels:
        return pod_labels[L.SIDECAR_INJECT]
    return pod_annotations.get(L.SIDECAR_INJECT)


def gateway_kind(deployment: dict) -> tuple[str, str]:
    """Classify a Deployment: ``(INJECTED | NOT_INJECTED | NOT_A_GATEWAY, why)``."""
    template = pod_template(deployment)
    annotations = template_annotations(deployment)
    container, _native = proxy_container(template)
    if container is None:
        return NOT_A_GATEWAY, "its pod template has no %s container, so it is not an Istio gateway" % L.PROXY_CONTAINER
    image = container.get("image")
    templates = [t.strip() for t in (annotations.get(L.INJECT_TEMPLATES) or "").split(",")]
    if image == L.GATEWAY_AUTO_IMAGE or L.GATEWAY_TEMPLATE in templates:
        return INJECTED, "injected gateway (%s image %r, %s=%s)" % (
            L.PROXY_CONTAINER, image, L.INJECT_TEMPLATES, annotations.get(L.INJECT_TEMPLATES))
    choice = inject_choice(template_labels(deployment), annotations)
    if choice == "false":
        return NOT_INJECTED, (
            "it is not injected (%s=\"false\", %s image %s): an istioctl-profile gateway, which 'istioctl install "
            "--revision R' rewrites in place. Upgrade it with istioctl, or replace it with an injected gateway (Helm "
            "chart istio/gateway) and move that one" % (L.SIDECAR_INJECT, L.PROXY_CONTAINER, image))
    return NOT_INJECTED, (
        "its %s image %s is written in the pod template, not filled in by the injector (%s is not \"auto\" and there "
        "is no %s: %s annotation), so changing its revision label would not change its proxy. Deploy it as an "
        "injected gateway (Helm chart istio/gateway) first" % (L.PROXY_CONTAINER, image, L.PROXY_CONTAINER,
                                                               L.INJECT_TEMPLATES, L.GATEWAY_TEMPLATE))


def selected_revision(pod_labels: dict, pod_annotations: dict) -> str | None:
    """The revision or tag the pod template itself selects: its ``istio.io/rev`` label, else ``default`` when
    ``sidecar.istio.io/inject`` is ``"true"``, else None (the namespace's labels decide)."""
    if pod_labels.get(L.REV):
        return pod_labels[L.REV]
    if inject_choice(pod_labels, pod_annotations) == "true":
        return L.DEFAULT_REVISION
    return None


def moved_labels(pod_labels: dict, pod_annotations: dict, target: str) -> dict:
    """The pod template labels that select ``target`` (a revision or tag): ``istio.io/rev: <target>``, and
    ``sidecar.istio.io/inject: "true"`` when the effective inject choice was ``"false"``."""
    result = dict(pod_labels)
    result[L.REV] = target
    if inject_choice(pod_labels, pod_annotations) == "false":
        result[L.SIDECAR_INJECT] = "true"
    return result


def labels_patch(before: dict, after: dict) -> dict | None:
    """A merge patch of a Deployment that turns pod template labels ``before`` into ``after``; None when equal."""
    changed = {key: after.get(key) for key in set(before) | set(after) if before.get(key) != after.get(key)}
    if not changed:
        return None
    return {"spec": {"template": {"metadata": {"labels": changed}}}}


def injection_labels(pod_labels: dict) -> dict:
    """Only the labels that select injection (``istio.io/rev``, ``sidecar.istio.io/inject``), for diffs and results."""
    return {key: pod_labels[key] for key in (L.REV, L.SIDECAR_INJECT) if key in pod_labels}


def canary_name(name: str) -> str:
    """Name of a gateway's canary Deployment: ``<name>-canary``."""
    return name + CANARY_SUFFIX


def canary_of(deployment: dict) -> str | None:
    """The gateway a canary Deployment made by this collection belongs to; None for any other Deployment."""
    return ((deployment.get("metadata") or {}).get("annotations") or {}).get(CANARY_OF)


def canary_deployment(gateway: dict, target: str, replicas: int) -> dict:
    """The canary Deployment of ``gateway`` on ``target`` (a revision or tag) with ``replicas`` replicas.

    Same selector, pod template and labels as the gateway (so its Service selects the canary's pods too), pod
    template moved to ``target``. Of the metadata only the labels are copied (without Helm's
    ``app.kubernetes.io/managed-by``: Helm does not manage the canary); annotated with :data:`CANARY_OF`.
    """
    meta = gateway.get("metadata") or {}
    spec = copy.deepcopy(gateway.get("spec") or {})
    spec["replicas"] = replicas
    template = spec.setdefault("template", {})
    template_meta = template.setdefault("metadata", {})
    template_meta["labels"] = moved_labels(template_labels(gateway), template_annotations(gateway), target)
    new_meta = {
        "name": canary_name(meta.get("name", "")),
        "namespace": meta.get("namespace"),
        "labels": {key: value for key, value in (meta.get("labels") or {}).items() if key not in _NOT_COPIED_LABELS},
        "annotations": {CANARY_OF: meta.get("name", "")},
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": new_meta, "spec": spec}


def canary_patch(canary: dict, target: str, replicas: int) -> dict | None:
    """A merge patch that brings an existing canary to ``target`` and ``replicas``; None when it is there already."""
    before = template_labels(canary)
    after = moved_labels(before, template_annotations(canary), target)
    patch = labels_patch(before, after) or {}
    if (canary.get("spec") or {}).get("replicas") != replicas:
        patch.setdefault("spec", {})["replicas"] = replicas
    return patch or None


def summary(pod_labels: dict, replicas: int | None) -> dict:
    """What a diff shows of a gateway or canary Deployment: the pod template's injection labels and the replicas."""
    return {"pod_labels": injection_labels(pod_labels), "replicas": replicas}
