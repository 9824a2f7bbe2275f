"""The istiod behind a webhook's Service: its revision, version, readiness and injector settings.

A webhook names a Service; the Service's selector picks the istiod pods, which in the simulated
cluster we read from the Deployment whose pod template the selector matches. The injector's
settings come from where istiod reads them: the ``discovery`` container (image, ``REVISION``,
``ENABLE_NATIVE_SIDECARS``) and the ``istio-sidecar-injector[-R]`` ConfigMap's ``values``.
"""

from __future__ import annotations

import dataclasses
import json
import re

from ..selectors import match_label_selector

DEPLOYMENTS = "apps/deployments"
SERVICES = "services"
CONFIGMAPS = "configmaps"
NODES = "nodes"

# Native sidecars are stable from Kubernetes 1.33; istiod's "auto" mode checks the kubelets for it.
NATIVE_SIDECAR_MIN_KUBELET_MINOR = 33
# ENABLE_NATIVE_SIDECARS became a "true/false/auto" setting defaulting to "auto" in Istio 1.27.
NATIVE_SIDECAR_AUTO_SINCE = (1, 27)
KNOWN_IMAGE_VARIANTS = ("distroless", "debug")

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


class WebhookCallError(Exception):
    """The API server could not reach the webhook's service; the text is the tail of its message."""


@dataclasses.dataclass(frozen=True)
class Istiod:
    """One istiod Deployment as the injector sees itself."""

    name: str
    namespace: str
    revision: str
    hub: str
    tag: str
    native_sidecars: str
    ready: bool
    cni_enabled: bool = False
    mesh_id: str = ""
    cluster_id: str = "Kubernetes"
    trust_domain: str = "cluster.local"

    @property
    def version(self) -> str:
        """The Istio version, the image tag without a variant suffix (``1.28.1-distroless`` -> ``1.28.1``)."""
        for variant in KNOWN_IMAGE_VARIANTS:
            if self.tag.endswith("-" + variant):
                return self.tag[: -len(variant) - 1]
        return self.tag

    @property
    def revision_label(self) -> str:
        """The revision as Istio writes it in labels and the status annotation (``default`` for the empty one)."""
        return self.revision or "default"

    @property
    def address(self) -> str:
        """``istiod[-R].<namespace>.svc:15012``, the CA and discovery address the proxies get."""
        suffix = f"-{self.revision}" if self.revision else ""
        return f"istiod{suffix}.{self.namespace}.svc:15012"

    @property
    def proxy_image(self) -> str:
        """``<hub>/proxyv2:<tag>``: the sidecar image of this control plane's version."""
        return f"{self.hub}/proxyv2:{self.tag}"

    def native_sidecars_for(self, kubelets: list[str], pod_annotations: dict | None = None) -> bool:
        """Whether a pod gets ``istio-proxy`` as a native sidecar (an init container with ``restartPolicy: Always``).

        ``ENABLE_NATIVE_SIDECARS`` decides (``auto``: every kubelet version in ``kubelets`` is 1.33 or newer);
        the pod annotation ``sidecar.istio.io/nativeSidecar`` ``"true"``/``"false"`` overrides it.
        """
        override = (pod_annotations or {}).get("sidecar.istio.io/nativeSidecar")
        if override in ("true", "false"):
            return override == "true"
        if self.native_sidecars == "true":
            return True
        if self.native_sidecars == "auto":
            return all(kubelet_supports_native_sidecars(v) for v in kubelets)
        return False


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``"1.28.1"``, ``"v1.35.0"`` or ``"1.28.1-distroless"`` -> ``(1, 28, 1)``; ``None`` when not a version."""
    match = _VERSION_RE.match(text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


def kubelet_supports_native_sidecars(kubelet_version: str) -> bool:
    """Whether a kubelet version (``v1.35.0``) runs native sidecars (1.33 or newer); unreadable means no, as istiod does."""
    parsed = parse_version(kubelet_version)
    return parsed is not None and parsed[1] >= NATIVE_SIDECAR_MIN_KUBELET_MINOR


def native_sidecar_mode(env_value: str | None, tag: str) -> str:
    """Normalise ``ENABLE_NATIVE_SIDECARS`` for an istiod version to ``"true"``, ``"false"`` or ``"auto"``.

    Up to 1.26 the setting is a boolean defaulting to false; from 1.27 it is true/false/auto defaulting to
    auto, and any other value means false. A tag that is not a version (a dev build) counts as the newest.
    """
    version = parse_version(tag)
    modern = version is None or version[:2] >= NATIVE_SIDECAR_AUTO_SINCE
    if env_value is None:
        return "auto" if modern else "false"
    value = env_value.strip().lower()
    if modern:
        return value if value in ("true", "false", "auto") else "false"
    return "true" if value == "true" else "false"


def split_image(image: str) -> tuple[str, str, str]:
    """``docker.io/istio/pilot:1.28.1`` -> (``docker.io/istio``, ``pilot``, ``1.28.1``); a missing tag is ``""``."""
    image = image.split("@", 1)[0]
    hub, _unused, last = image.rpartition("/")
    name, _unused, tag = last.partition(":")
    return hub, name, tag


def is_istiod(deployment: dict) -> bool:
    """Whether a Deployment runs istiod: labelled ``app=istiod`` with a ``discovery`` container."""
    labels = (deployment.get("metadata") or {}).get("labels") or {}
    return labels.get("app") == "istiod" and _discovery_container(deployment) is not None


def _discovery_container(deployment: dict) -> dict | None:
    containers = (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return next((c for c in containers if c.get("name") == "discovery"), None)


def _env_value(container: dict, name: str) -> str | None:
    for env in container.get("env") or []:
        if env.get("name") == name and "value" in env:
            return str(env["value"])
    return None


def _injector_values(store, namespace: str, revision: str) -> dict:
    """The ``values`` JSON of ``istio-sidecar-injector[-R]`` (empty when the ConfigMap or key is missing or unreadable)."""
    name = "istio-sidecar-injector" + (f"-{revision}" if revision else "")
    configmap = store.get(CONFIGMAPS, namespace, name) or {}
    try:
        values = json.loads((configmap.get("data") or {}).get("values") or "{}")
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def istiod_from_deployment(store, deployment: dict) -> Istiod:
    """Read an istiod Deployment (and its injector ConfigMap) into an ``Istiod``."""
    meta = deployment.get("metadata") or {}
    container = _discovery_container(deployment) or {}
    revision = _env_value(container, "REVISION") or (meta.get("labels") or {}).get("istio.io/rev") or ""
    if revision == "default":
        revision = ""
    hub, _unused, tag = split_image(container.get("image") or "")
    values = _injector_values(store, meta.get("namespace", ""), revision)
    global_values = values.get("global") or {}
    pilot_values = values.get("pilot") or {}
    return Istiod(
        name=meta.get("name", ""),
        namespace=meta.get("namespace", ""),
        revision=revision,
        hub=hub,
        tag=tag,
        native_sidecars=native_sidecar_mode(_env_value(container, "ENABLE_NATIVE_SIDECARS"), tag),
        ready=int((deployment.get("status") or {}).get("readyReplicas") or 0) > 0,
        cni_enabled=bool((pilot_values.get("cni") or {}).get("enabled")),
        mesh_id=str(global_values.get("meshID") or ""),
        cluster_id=str((global_values.get("multiCluster") or {}).get("clusterName") or "Kubernetes"),
        trust_domain=str(global_values.get("trustDomain") or "cluster.local"),
    )


def serving_istiod(store, namespace: str, service_name: str) -> Istiod | None:
    """The ready istiod behind Service ``namespace/service_name``, or ``None`` if ready non-istiod pods serve it.

    Raises ``WebhookCallError`` as the API server words a failed call: the Service is missing, or no
    Deployment whose pod template its selector matches has a ready replica.
    """
    service = store.get(SERVICES, namespace, service_name)
    if service is None:
        raise WebhookCallError(f'service "{service_name}" not found')
    selector = (service.get("spec") or {}).get("selector") or {}
    backends = []
    if selector:
        deployments, _unused = store.list(DEPLOYMENTS, namespace)
        for deployment in deployments:
            pod_labels = (((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
            if match_label_selector({"matchLabels": selector}, pod_labels):
                backends.append(deployment)
    ready = sorted((d for d in backends if int((d.get("status") or {}).get("readyReplicas") or 0) > 0),
                   key=lambda d: d["metadata"]["name"])
    if not ready:
        raise WebhookCallError(f'no endpoints available for service "{service_name}"')
    istiods = [d for d in ready if is_istiod(d)]
    return istiod_from_deployment(store, istiods[0]) if istiods else None


def kubelet_versions(store, settings, node_name: str | None = None) -> list[str]:
    """The kubelet versions istiod's ``auto`` mode checks: the pod's node if it exists, else every node.

    Node objects in the store win; without any, each of ``settings.nodes`` runs ``settings.kubelet_version``.
    """
    nodes, _unused = store.list(NODES)
    versions = {n["metadata"]["name"]: ((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "") for n in nodes}
    if not versions:
        versions = {name: settings.kubelet_version for name in (getattr(settings, "nodes", None) or ["node"])}
    if node_name and node_name in versions:
        return [versions[node_name]]
    return list(versions.values())
