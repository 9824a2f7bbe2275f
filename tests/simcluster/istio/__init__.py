"""Istio in the simulated cluster: the admission hook that runs the stored mutating webhooks on pod creation, and
istiod's own writes to the webhook configurations of its revision."""

from __future__ import annotations

from .istiod_writes import IstiodWebhookWrites
from .webhooks import admit_pod

POD_KEY = "pods"


def admission_hook(store, settings):
    """The hook ``Store.add_admission_hook`` takes: runs the mutating webhooks on pod CREATE, passes anything else."""

    def hook(operation: str, key: str, obj: dict, old: dict | None, dry_run: bool) -> dict:
        del old  # the injector acts on CREATE only, where there is no old object
        if operation != "CREATE" or key != POD_KEY:
            return obj
        return admit_pod(store, settings, obj, dry_run)

    return hook


def install(store, settings) -> None:
    """Register Istio's admission hook and istiod's webhook writes with ``store``; ``settings`` is read live."""
    store.add_admission_hook(admission_hook(store, settings))
    store.subscribe(IstiodWebhookWrites(store))
