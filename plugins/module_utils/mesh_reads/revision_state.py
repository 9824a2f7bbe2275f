# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what uses an istiod revision, and wait until a revision is ready.

The in-use read costs three paginated LISTs (namespaces, pods, Deployments; all namespaces) whatever the size
of the cluster; the wait polls two GETs (the istiod Deployment and the injector webhook configuration).
"""

from __future__ import annotations

import time

from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import ControlPlane
from ansible_collections.meshops.istio.plugins.module_utils.istio.inuse import in_use_report
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError


def read_usage(api, revision: str, plane: ControlPlane) -> dict:
    """The in-use report of ``revision`` (see istio/inuse.py), from one LIST each of namespaces, pods, Deployments."""
    namespaces = api.list(R.NAMESPACES.path())
    pods = api.list(R.PODS.path())
    deployments = api.list(R.DEPLOYMENTS.path())
    return in_use_report(revision, plane, namespaces, pods, deployments)


def deployment_progress(deployment: dict | None) -> tuple[bool, str]:
    """Whether a Deployment is available (rollout observed, every replica updated and available), and what was seen."""
    if deployment is None:
        return False, "the Deployment does not exist"
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    replicas = 1 if spec.get("replicas") is None else int(spec["replicas"])
    observed = status.get("observedGeneration") or 0
    generation = meta.get("generation") or 0
    updated = status.get("updatedReplicas") or 0
    current = status.get("replicas") or 0
    available = status.get("availableReplicas") or 0
    seen = ("generation %d observed %d, replicas %d wanted, %d current, %d updated, %d available"
            % (generation, observed, replicas, current, updated, available))
    return observed >= generation and updated == replicas == current == available, seen


def wait_ready(api, revision: str, namespace: str, timeout: float, sleep=time.sleep, clock=time.monotonic) -> dict:
    """Wait until istiod of ``revision`` is available and its injector webhook configuration exists.

    Returns ``{"ready": True, "seen": ...}``; MeshError with what was last seen when ``timeout`` seconds pass.
    """
    deadline = clock() + timeout
    name = rev.istiod_name(revision)
    webhook = rev.injector_webhook_name(revision, namespace)
    delay = 0.2
    while True:
        ready, seen = deployment_progress(api.get_or_none(R.DEPLOYMENTS.path(namespace, name)))
        has_webhook = api.get_or_none(R.MUTATING_WEBHOOKS.path(name=webhook)) is not None
        seen = "Deployment %s/%s: %s; MutatingWebhookConfiguration %s %s" % (
            namespace, name, seen, webhook, "exists" if has_webhook else "does not exist")
        if ready and has_webhook:
            return {"ready": True, "seen": seen}
        if clock() >= deadline:
            raise MeshError("istiod revision %s was not ready within %s seconds: %s. Check the istiod pods "
                            "(kubectl -n %s get pods -l app=istiod,istio.io/rev=%s) or raise wait_timeout"
                            % (revision, timeout, seen, namespace, rev.canonical(revision)), seen=seen)
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 2, 2.0)
