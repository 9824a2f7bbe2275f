"""MutatingWebhookConfigurations evaluated for a pod CREATE as the API server does, and the webhooks called.

The API server orders configurations by name and calls, in order, every webhook whose ``rules``,
``namespaceSelector`` and ``objectSelector`` match; each sees the pod as the previous ones left it.
A webhook served by istiod injects as that istiod; one that cannot be called fails the request
under ``failurePolicy: Fail`` (the default) and is skipped under ``Ignore``.
"""

from __future__ import annotations

from ..errors import ApiError, bad_request, internal_error
from ..selectors import match_label_selector
from . import controlplane, injector
from .controlplane import WebhookCallError

MUTATING_WEBHOOKS = "admissionregistration.k8s.io/mutatingwebhookconfigurations"
NAMESPACES = "namespaces"
DEFAULT_TIMEOUT_SECONDS = 10
# sideEffects values that let the API server call a webhook for a dry-run request.
DRY_RUN_SAFE = ("None", "NoneOnDryRun")


def _split_resource(resource: str) -> tuple[str, str]:
    name, _unused, sub = resource.partition("/")
    return name, sub


def rule_matches(rule: dict, operation: str, group: str, version: str, resource: str, subresource: str = "",
                 namespaced: bool = True) -> bool:
    """Whether one ``RuleWithOperations`` matches a request (operations, apiGroups, apiVersions, resources, scope)."""
    operations = rule.get("operations") or []
    if "*" not in operations and operation not in operations:
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and group not in groups:
        return False
    versions = rule.get("apiVersions") or []
    if "*" not in versions and version not in versions:
        return False
    matched = False
    for entry in rule.get("resources") or []:
        res, sub = _split_resource(entry)
        if res in ("*", resource) and sub in ("*", subresource):
            matched = True
            break
    if not matched:
        return False
    scope = rule.get("scope") or "*"
    return scope in ("*", "Namespaced" if namespaced else "Cluster")


def webhook_matches(webhook: dict, operation: str, labels_of_namespace: dict, pod_labels: dict) -> bool:
    """Whether a webhook is called for a pod request: one rule matches, and both selectors match."""
    if not any(rule_matches(r, operation, "", "v1", "pods") for r in webhook.get("rules") or []):
        return False
    if not match_label_selector(webhook.get("namespaceSelector"), labels_of_namespace):
        return False
    return match_label_selector(webhook.get("objectSelector"), pod_labels)


def namespace_labels(store, namespace: str) -> dict:
    """A namespace's labels as webhooks see them, always with ``kubernetes.io/metadata.name``."""
    found = store.get(NAMESPACES, "", namespace) or {}
    labels = dict((found.get("metadata") or {}).get("labels") or {})
    labels.setdefault("kubernetes.io/metadata.name", namespace)
    return labels


def matching_webhooks(store, operation: str, pod: dict) -> list[tuple[str, dict]]:
    """(configuration name, webhook) of every webhook the API server would call for this pod, in call order."""
    configurations, _unused = store.list(MUTATING_WEBHOOKS)
    labels_of_namespace = namespace_labels(store, (pod.get("metadata") or {}).get("namespace", ""))
    pod_labels = (pod.get("metadata") or {}).get("labels") or {}
    found = []
    for configuration in sorted(configurations, key=lambda c: c["metadata"]["name"]):
        for webhook in configuration.get("webhooks") or []:
            if webhook_matches(webhook, operation, labels_of_namespace, pod_labels):
                found.append((configuration["metadata"]["name"], webhook))
    return found


def _call_url(webhook: dict) -> str:
    client = webhook.get("clientConfig") or {}
    timeout = f"?timeout={webhook.get('timeoutSeconds') or DEFAULT_TIMEOUT_SECONDS}s"
    if client.get("url"):
        return client["url"] + timeout
    service = client.get("service") or {}
    return f"https://{service.get('name')}.{service.get('namespace')}.svc:{service.get('port') or 443}{service.get('path') or ''}{timeout}"


def _call_failure(webhook: dict, reason: str) -> ApiError:
    return internal_error(f'failed calling webhook "{webhook.get("name")}": failed to call webhook: Post "{_call_url(webhook)}": {reason}')


def call_webhook(store, settings, webhook: dict, pod: dict) -> dict:
    """Call one matching webhook for a pod CREATE and return the pod as it answers.

    Raises ``WebhookCallError`` when the webhook cannot be reached and ``ApiError`` 400 when istiod denies the pod.
    """
    client = webhook.get("clientConfig") or {}
    service = client.get("service")
    if not service:
        raise WebhookCallError("dial tcp: connect: connection refused (the simulated cluster serves only istiod's webhooks)")
    istiod = controlplane.serving_istiod(store, service.get("namespace", ""), service.get("name", ""))
    path = service.get("path") or ""
    if istiod is None or not path.startswith("/inject"):
        raise WebhookCallError("the server could not find the requested resource")
    if not injector.injection_required(pod):
        return pod
    node = (pod.get("spec") or {}).get("nodeName")
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    native = istiod.native_sidecars_for(controlplane.kubelet_versions(store, settings, node), annotations)
    try:
        return injector.inject(pod, istiod, native)
    except injector.InjectionDenied as exc:
        raise ApiError(400, "", f'admission webhook "{webhook.get("name")}" denied the request: {exc}') from exc


def admit_pod(store, settings, pod: dict, dry_run: bool) -> dict:
    """Run every matching mutating webhook on a pod being created and return the resulting pod.

    Raises ``ApiError``: 500 InternalError when a ``failurePolicy: Fail`` webhook cannot be called, 400 when a
    webhook denies the pod or has side effects on a dry run.
    """
    for _unused, webhook in matching_webhooks(store, "CREATE", pod):
        if dry_run and webhook.get("sideEffects") not in DRY_RUN_SAFE:
            raise bad_request(f'admission webhook "{webhook.get("name")}" has side effects and does not support dry run')
        try:
            pod = call_webhook(store, settings, webhook, pod)
        except WebhookCallError as exc:
            if webhook.get("failurePolicy", "Fail") == "Ignore":
                continue
            raise _call_failure(webhook, str(exc)) from exc
    return pod
