# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what uses an istiod revision, and wait until a revision is ready.

The in-use read costs three paginated LISTs (namespaces, pods, Deployments; all namespaces) whatever the size
of the cluster; the wait polls one GET of the istiod Deployment (k8s/rollout.py, kubectl's rollout status), then
reads the injector webhook configuration once.
"""

from __future__ import annotations

import time

from ansible_collections.meshops.istio.plugins.module_utils.istio import revision as rev
from ansible_collections.meshops.istio.plugins.module_utils.istio.controlplane import ControlPlane
from ansible_collections.meshops.istio.plugins.module_utils.istio.inuse import in_use_report
from ansible_collections.meshops.istio.plugins.module_utils.istio.waves import Workload
from ansible_collections.meshops.istio.plugins.module_utils.k8s import resources as R
from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.rollout import FAILED, wait_for_rollouts

# Seconds between two reads of istiod's Deployment while waiting for its rollout.
POLL_INTERVAL = 0.5


def read_usage(api, revision: str, plane: ControlPlane) -> dict:
    """The in-use report of ``revision`` (see istio/inuse.py), from one LIST each of namespaces, pods, Deployments."""
    namespaces = api.list(R.NAMESPACES.path())
    pods = api.list(R.PODS.path())
    deployments = api.list(R.DEPLOYMENTS.path())
    return in_use_report(revision, plane, namespaces, pods, deployments)


def wait_ready(api, revision: str, namespace: str, timeout: float, sleep=time.sleep, clock=time.monotonic) -> dict:
    """Wait until istiod of ``revision`` has rolled out, as ``kubectl rollout status`` says (k8s/rollout.py), and check
    that its injector webhook configuration exists.

    Returns ``{"ready": True, "seen": ...}``. Raises MeshError with kubectl's message when the Deployment is past its
    progress deadline (at once: it will not finish by itself), when ``timeout`` seconds pass, or when the webhook
    configuration is missing once istiod is ready.
    """
    name = rev.istiod_name(revision)
    webhook = rev.injector_webhook_name(revision, namespace)
    istiod = Workload(namespace, "Deployment", name)
    waited = wait_for_rollouts(api, [istiod], timeout, POLL_INTERVAL, sleep=sleep, clock=clock)
    seen = "Deployment %s/%s: %s" % (namespace, name, waited.messages[istiod])
    check = "Check the istiod pods (kubectl -n %s get pods -l app=istiod,istio.io/rev=%s)" % (namespace, rev.canonical(revision))
    if waited.status[istiod] == FAILED:
        raise MeshError("istiod revision %s failed to roll out: %s. %s and its Deployment's conditions" % (revision, seen, check),
                        seen=seen)
    if not waited.ok:
        raise MeshError("istiod revision %s was not ready within %s seconds: %s. %s or raise wait_timeout"
                        % (revision, timeout, seen, check), seen=seen)
    if api.get_or_none(R.MUTATING_WEBHOOKS.path(name=webhook)) is None:
        raise MeshError("istiod revision %s is not ready: %s, but its MutatingWebhookConfiguration %s does not exist, so "
                        "no pod would be injected by it. Install the revision again" % (revision, seen, webhook),
                        seen=seen)
    return {"ready": True, "seen": "%s; MutatingWebhookConfiguration %s exists" % (seen, webhook)}
