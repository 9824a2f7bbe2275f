"""What istiod itself writes to the webhook configurations of its revision, once it serves.

A real istiod (``pkg/webhooks/webhookpatch.go`` and the validation webhook controller) watches the
MutatingWebhookConfigurations and ValidatingWebhookConfigurations labelled ``istio.io/rev=<its revision>`` (its
injector, the tags pointing at it, its validator, the default validator) and patches in its CA as every webhook's
``clientConfig.caBundle``; on the validating ones it also turns ``failurePolicy`` to ``Fail``, which the charts
render as ``Ignore`` so that validation fails open until istiod serves. An installer that writes those fields back
fights istiod; this makes the simulated cluster show it as the real one does.

Here "istiod serves" is: a Deployment labelled ``app=istiod`` and ``istio.io/rev=<R>`` has a ready replica. The
CA is a fixed stand-in (nothing here checks it).
"""

from __future__ import annotations

import base64
import logging

from ..errors import ApiError

LOG = logging.getLogger(__name__)

DEPLOYMENTS = "apps/deployments"
MUTATING = "admissionregistration.k8s.io/mutatingwebhookconfigurations"
VALIDATING = "admissionregistration.k8s.io/validatingwebhookconfigurations"
REV = "istio.io/rev"
CA_BUNDLE = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nsimulated istiod CA\n-----END CERTIFICATE-----\n").decode()


def _revision(obj: dict) -> str | None:
    return ((obj.get("metadata") or {}).get("labels") or {}).get(REV)


class IstiodWebhookWrites:
    """A store subscriber: istiod's writes to the webhook configurations of every revision whose istiod is ready."""

    def __init__(self, store) -> None:
        self.store = store

    def __call__(self, event_type: str, key: str, obj: dict) -> None:
        if event_type == "DELETED":
            return
        if key == DEPLOYMENTS:
            labels = (obj.get("metadata") or {}).get("labels") or {}
            if labels.get("app") == "istiod" and labels.get(REV) and self._ready(obj):
                for config_key in (MUTATING, VALIDATING):
                    for config in self.store.list(config_key, label_selector=f"{REV}={labels[REV]}")[0]:
                        self._patch(config_key, config)
        elif key in (MUTATING, VALIDATING) and _revision(obj) and self._serving(_revision(obj)):
            self._patch(key, obj)

    @staticmethod
    def _ready(deployment: dict) -> bool:
        return int((deployment.get("status") or {}).get("readyReplicas") or 0) > 0

    def _serving(self, revision: str) -> bool:
        return any(self._ready(d) for d in self.store.list(DEPLOYMENTS, label_selector=f"app=istiod,{REV}={revision}")[0])

    def _patch(self, key: str, config: dict) -> None:
        changed = False
        for hook in config.get("webhooks") or []:
            client = hook.setdefault("clientConfig", {})
            if client.get("caBundle") != CA_BUNDLE:
                client["caBundle"] = CA_BUNDLE
                changed = True
            if key == VALIDATING and hook.get("failurePolicy") != "Fail":
                hook["failurePolicy"] = "Fail"
                changed = True
        if not changed:
            return
        try:
            self.store.update(config, field_manager="pilot-discovery")
        except ApiError as exc:  # changed or deleted meanwhile: the event of that change brings it back here
            LOG.debug("istiod's patch of %s %s skipped: %s", key, config["metadata"]["name"], exc)
