# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fields istiod itself writes to the objects an installer applies, which an installer must leave to it.

istiod patches, on the webhook configurations of its own revision (``pkg/webhooks/webhookpatch.go`` and the
validation controller):

* ``webhooks[].clientConfig.caBundle`` of its MutatingWebhookConfigurations and ValidatingWebhookConfigurations
  (its own CA, the chart renders none);
* ``webhooks[].failurePolicy`` of its ValidatingWebhookConfigurations: the chart renders ``Ignore`` ("fail open
  until the validation webhook is ready") and istiod turns it to ``Fail`` once it serves.

A server-side apply that sends those fields (with ``force``) takes them back: each apply would reset the caBundle
or turn validation off (``Ignore``) until istiod notices and writes them again (Istio issues 60596, 61613). So an
installer applies a webhook configuration without them once it exists; a new one keeps the chart's
``failurePolicy`` so that it fails open until istiod serves.
"""

from __future__ import annotations

import copy

from ansible_collections.meshops.istio.plugins.module_utils.istio import labels as L

WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def is_istiod_webhook_configuration(obj: dict) -> bool:
    """True for a webhook configuration of an istiod revision (it carries the ``istio.io/rev`` label)."""
    return obj.get("kind") in WEBHOOK_KINDS and L.REV in ((obj.get("metadata") or {}).get("labels") or {})


def without_istiod_fields(obj: dict, exists: bool) -> dict:
    """``obj`` as an installer should apply it: without the fields istiod writes (a copy; other objects unchanged).

    ``exists``: whether the object is already in the cluster. A new validating configuration keeps its
    ``failurePolicy`` (the chart's fail-open start); an existing one leaves it to istiod.
    """
    if not is_istiod_webhook_configuration(obj):
        return obj
    applied = copy.deepcopy(obj)
    for hook in applied.get("webhooks") or []:
        (hook.get("clientConfig") or {}).pop("caBundle", None)
        if exists and applied["kind"] == "ValidatingWebhookConfiguration":
            hook.pop("failurePolicy", None)
    return applied
