"""The partial pods istiod's ``sidecar`` and ``gateway`` injection templates render, written in Python.

Each function returns an overlay (a partial pod: ``metadata`` labels/annotations and ``spec``) that
the injector merges onto the pod, as istiod merges its rendered template. Values are those of the
istiod chart's defaults (``global.proxy.*``, ``global.proxy_init.*``, ``global.sds.token.aud``).
"""

from __future__ import annotations

import dataclasses
import json

from .controlplane import Istiod, parse_version

PROXY_NAME = "istio-proxy"
INIT_NAME = "istio-init"
VALIDATION_NAME = "istio-validation"
STATUS_PORT = "15020"
PROXY_UID = 1337
# The pod annotation ``sidecar.istio.io/proxyImage`` replaces the image when it names a registry path.
PROXY_IMAGE_ANNOTATION = "sidecar.istio.io/proxyImage"
# The istio-ca-crl volume arrived with Istio 1.27.
CRL_VOLUME_SINCE = (1, 27)

PROXY_RESOURCES = {"limits": {"cpu": "2000m", "memory": "1024Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}


@dataclasses.dataclass(frozen=True)
class TemplateInput:
    """What a template reads: the pod (previously injected containers stripped), the istiod and the workload."""

    pod: dict
    istiod: Istiod
    native_sidecar: bool
    workload_name: str
    workload_namespace: str
    owner_api_version: str
    owner_kind: str

    @property
    def labels(self) -> dict:
        """The pod's labels."""
        return (self.pod.get("metadata") or {}).get("labels") or {}

    @property
    def annotations(self) -> dict:
        """The pod's annotations."""
        return (self.pod.get("metadata") or {}).get("annotations") or {}

    def annotation(self, name: str, default: str) -> str:
        """A pod annotation, or ``default`` when absent (the templates' ``annotation`` function)."""
        return str(self.annotations.get(name, default))

    @property
    def app_containers(self) -> list[str]:
        """Names of the pod's containers other than ``istio-proxy``."""
        return [c.get("name") for c in (self.pod.get("spec") or {}).get("containers") or [] if c.get("name") != PROXY_NAME]

    @property
    def interception_mode(self) -> str:
        """``REDIRECT`` unless the pod asks otherwise with ``sidecar.istio.io/interceptionMode``."""
        return self.annotation("sidecar.istio.io/interceptionMode", "REDIRECT")

    @property
    def proxy_image(self) -> str:
        """The proxy image: the annotation's when it holds a path, else ``<hub>/proxyv2:<version>``."""
        override = self.annotations.get(PROXY_IMAGE_ANNOTATION, "")
        return override if "/" in override else self.istiod.proxy_image


def _field_env(name: str, path: str) -> dict:
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


def _resource_env(name: str, resource: str) -> dict:
    return {"name": name, "valueFrom": {"resourceFieldRef": {"resource": resource, "divisor": "1"}}}


def exclude_inbound_ports(status_port: str, excluded: str) -> str:
    """Add the agent's status port to a comma-separated list of excluded inbound ports (once)."""
    ports = [p.strip() for p in excluded.split(",") if p.strip()]
    port = status_port.strip()
    if not port or port == "0" or port in ports:
        return ",".join(ports)
    return ",".join(ports + [port])


def proxy_config_json(istiod: Istiod) -> str:
    """The ``PROXY_CONFIG`` value: the mesh's default ProxyConfig as JSON, ending in a newline like the template."""
    config = {
        "configPath": "./etc/istio/proxy",
        "binaryPath": "/usr/local/bin/envoy",
        "serviceCluster": "istio-proxy",
        "drainDuration": "45s",
        "discoveryAddress": istiod.address,
        "proxyAdminPort": 15000,
        "controlPlaneAuthPolicy": "MUTUAL_TLS",
        "statNameLength": 189,
        "statusPort": int(STATUS_PORT),
        "terminationDrainDuration": "5s",
    }
    if istiod.mesh_id:
        config["meshId"] = istiod.mesh_id
    return json.dumps(config, separators=(",", ":")) + "\n"


def _port_json(port: dict) -> str:
    ordered = {k: port[k] for k in ("name", "hostPort", "containerPort", "protocol", "hostIP") if port.get(k) not in (None, "")}
    return json.dumps(ordered, separators=(",", ":"))


def pod_ports_json(pod: dict) -> str:
    """``ISTIO_META_POD_PORTS``: every container port of the pod, one JSON object a line, as the template lays it out."""
    entries = [_port_json(p) for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []]
    lines = ["    " + ("" if i == 0 else ",") + e for i, e in enumerate(entries)]
    return "\n".join(["["] + lines + ["]"])


def _canonical_labels(data: TemplateInput, trim: bool) -> dict:
    labels = data.labels
    name = (labels.get("service.istio.io/canonical-name") or labels.get("app.kubernetes.io/name") or labels.get("app")
            or data.workload_name)
    if trim:
        name = name[:63].strip("-_.")
    revision = (labels.get("service.istio.io/canonical-revision") or labels.get("app.kubernetes.io/version")
                or labels.get("version") or "latest")
    return {"service.istio.io/canonical-name": name, "service.istio.io/canonical-revision": revision}


def _default_container_annotations(data: TemplateInput) -> dict:
    containers = data.app_containers
    if not containers:
        return {}
    found = {}
    for key in ("kubectl.kubernetes.io/default-logs-container", "kubectl.kubernetes.io/default-container"):
        if key not in data.annotations:
            found[key] = containers[0]
    return found


def _proxy_env(data: TemplateInput, interception_mode: str, for_gateway: bool) -> list[dict]:
    istiod = data.istiod
    env = [
        {"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
        {"name": "CA_ADDR", "value": istiod.address},
        _field_env("POD_NAME", "metadata.name"),
        _field_env("POD_NAMESPACE", "metadata.namespace"),
        _field_env("INSTANCE_IP", "status.podIP"),
        _field_env("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        _field_env("HOST_IP", "status.hostIP"),
        _resource_env("ISTIO_CPU_LIMIT", "limits.cpu"),
        {"name": "PROXY_CONFIG", "value": proxy_config_json(istiod)},
        {"name": "ISTIO_META_POD_PORTS", "value": pod_ports_json(data.pod)},
    ]
    app_containers = {"name": "ISTIO_META_APP_CONTAINERS", "value": ",".join(data.app_containers)}
    memory_limit = _resource_env("GOMEMLIMIT", "limits.memory")
    env += [memory_limit, app_containers] if for_gateway else [app_containers, memory_limit]
    env += [
        {"name": "ISTIO_META_CLUSTER_ID", "value": istiod.cluster_id},
        _field_env("ISTIO_META_NODE_NAME", "spec.nodeName"),
        {"name": "ISTIO_META_INTERCEPTION_MODE", "value": interception_mode},
    ]
    workload = data.workload_name if for_gateway else (data.labels.get("service.istio.io/workload-name") or data.workload_name)
    if workload:
        env.append({"name": "ISTIO_META_WORKLOAD_NAME", "value": workload})
    if data.owner_api_version and data.workload_name:
        env.append({"name": "ISTIO_META_OWNER", "value": f"kubernetes://apis/{data.owner_api_version}/namespaces/"
                    f"{data.workload_namespace or 'default'}/{data.owner_kind.lower()}s/{data.workload_name}"})
    env.append({"name": "ISTIO_META_MESH_ID", "value": istiod.mesh_id or istiod.trust_domain})
    env.append({"name": "TRUST_DOMAIN", "value": istiod.trust_domain})
    return env


def _readiness_probe() -> dict:
    return {"httpGet": {"path": "/healthz/ready", "port": 15021}, "initialDelaySeconds": 0, "periodSeconds": 15,
            "timeoutSeconds": 3, "failureThreshold": 4}


def _volume_mounts(with_crl: bool) -> list[dict]:
    mounts = [
        {"name": "workload-socket", "mountPath": "/var/run/secrets/workload-spiffe-uds"},
        {"name": "credential-socket", "mountPath": "/var/run/secrets/credential-uds"},
        {"name": "workload-certs", "mountPath": "/var/run/secrets/workload-spiffe-credentials"},
        {"name": "istiod-ca-cert", "mountPath": "/var/run/secrets/istio"},
    ]
    if with_crl:
        mounts.append({"name": "istio-ca-crl", "mountPath": "/var/run/secrets/istio/crl"})
    mounts += [
        {"name": "istio-data", "mountPath": "/var/lib/istio/data"},
        {"name": "istio-envoy", "mountPath": "/etc/istio/proxy"},
        {"name": "istio-token", "mountPath": "/var/run/secrets/tokens"},
        {"name": "istio-podinfo", "mountPath": "/etc/istio/pod"},
    ]
    return mounts


def _volumes(with_crl: bool) -> list[dict]:
    volumes = [
        {"name": "workload-socket", "emptyDir": {}},
        {"name": "credential-socket", "emptyDir": {}},
        {"name": "workload-certs", "emptyDir": {}},
        {"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
        {"name": "istio-data", "emptyDir": {}},
        {"name": "istio-podinfo", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}},
            {"path": "annotations", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}},
        ]}},
        {"name": "istio-token", "projected": {"sources": [
            {"serviceAccountToken": {"path": "istio-token", "expirationSeconds": 43200, "audience": "istio-ca"}},
        ]}},
        {"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert"}},
    ]
    if with_crl:
        volumes.append({"name": "istio-ca-crl", "configMap": {"name": "istio-ca-crl", "optional": True}})
    return volumes


def _has_crl_volume(istiod: Istiod) -> bool:
    version = parse_version(istiod.version)
    return version is None or version[:2] >= CRL_VOLUME_SINCE


def _init_container(data: TemplateInput) -> dict:
    cni = data.istiod.cni_enabled
    excluded = exclude_inbound_ports(data.annotation("status.sidecar.istio.io/port", STATUS_PORT),
                                     data.annotation("traffic.sidecar.istio.io/excludeInboundPorts", ""))
    args = [
        "istio-iptables", "-p", "15001", "-z", "15006", "-u", str(PROXY_UID), "-m", data.interception_mode,
        "-i", data.annotation("traffic.sidecar.istio.io/includeOutboundIPRanges", "*"),
        "-x", data.annotation("traffic.sidecar.istio.io/excludeOutboundIPRanges", ""),
        "-b", data.annotation("traffic.sidecar.istio.io/includeInboundPorts", "*"),
        "-d", ("15090,15021," + excluded) if excluded else "15090,15021",
        "--log_output_level=" + data.annotation("sidecar.istio.io/agentLogLevel", "default:info"),
    ]
    if cni:
        args += ["--run-validation", "--skip-rule-apply"]
        security = {"allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]},
                    "readOnlyRootFilesystem": True, "runAsGroup": PROXY_UID, "runAsUser": PROXY_UID, "runAsNonRoot": True}
    else:
        security = {"allowPrivilegeEscalation": False, "privileged": False,
                    "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                    "readOnlyRootFilesystem": False, "runAsGroup": 0, "runAsNonRoot": False, "runAsUser": 0}
    return {"name": VALIDATION_NAME if cni else INIT_NAME, "image": data.proxy_image, "args": args,
            "resources": json.loads(json.dumps(PROXY_RESOURCES)), "securityContext": security}


def _cni_annotations(data: TemplateInput) -> dict:
    found = {"sidecar.istio.io/interceptionMode": data.interception_mode}
    include_ranges = data.annotation("traffic.sidecar.istio.io/includeOutboundIPRanges", "*")
    if include_ranges:
        found["traffic.sidecar.istio.io/includeOutboundIPRanges"] = include_ranges
    exclude_ranges = data.annotation("traffic.sidecar.istio.io/excludeOutboundIPRanges", "")
    if exclude_ranges:
        found["traffic.sidecar.istio.io/excludeOutboundIPRanges"] = exclude_ranges
    found["traffic.sidecar.istio.io/includeInboundPorts"] = data.annotation("traffic.sidecar.istio.io/includeInboundPorts", "*")
    found["traffic.sidecar.istio.io/excludeInboundPorts"] = exclude_inbound_ports(
        data.annotation("status.sidecar.istio.io/port", STATUS_PORT), data.annotation("traffic.sidecar.istio.io/excludeInboundPorts", ""))
    for key in ("traffic.sidecar.istio.io/includeOutboundPorts", "traffic.sidecar.istio.io/excludeOutboundPorts"):
        if key in data.annotations:
            found[key] = data.annotations[key]
    return found


def sidecar(data: TemplateInput) -> dict:
    """The ``sidecar`` template: ``istio-init`` (or ``istio-validation``), ``istio-proxy`` (native or not), volumes."""
    native = data.native_sidecar
    with_crl = _has_crl_volume(data.istiod)
    proxy = {"name": PROXY_NAME, "image": data.proxy_image}
    if native:
        proxy["restartPolicy"] = "Always"
    proxy["ports"] = [{"containerPort": 15090, "protocol": "TCP", "name": "http-envoy-prom"}]
    proxy["args"] = [
        "proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
        "--proxyLogLevel=" + data.annotation("sidecar.istio.io/logLevel", "warning"),
        "--proxyComponentLogLevel=" + data.annotation("sidecar.istio.io/componentLogLevel", "misc:error"),
        "--log_output_level=" + data.annotation("sidecar.istio.io/agentLogLevel", "default:info"),
    ]
    if native:
        port = data.annotation("status.sidecar.istio.io/port", STATUS_PORT)
        proxy["lifecycle"] = {"preStop": {"exec": {"command": ["pilot-agent", "request", f"--debug-port={port}", "POST", "drain"]}}}
    proxy["env"] = _proxy_env(data, data.interception_mode, for_gateway=False)
    if data.annotation("status.sidecar.istio.io/port", STATUS_PORT) != "0":
        proxy["startupProbe"] = {"httpGet": {"path": "/healthz/ready", "port": 15021}, "initialDelaySeconds": 0,
                                 "periodSeconds": 1, "timeoutSeconds": 3, "failureThreshold": 600}
        proxy["readinessProbe"] = _readiness_probe()
    proxy["securityContext"] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "privileged": False,
                                "readOnlyRootFilesystem": True, "runAsNonRoot": True, "runAsUser": PROXY_UID, "runAsGroup": PROXY_UID}
    proxy["resources"] = json.loads(json.dumps(PROXY_RESOURCES))
    proxy["volumeMounts"] = _volume_mounts(with_crl)

    init_containers = []
    if data.interception_mode != "NONE":
        init_containers.append(_init_container(data))
    spec: dict = {"initContainers": init_containers + [proxy]} if native else {"initContainers": init_containers, "containers": [proxy]}
    spec["volumes"] = _volumes(with_crl)

    labels = {"security.istio.io/tlsMode": data.labels.get("security.istio.io/tlsMode") or "istio"}
    labels.update(_canonical_labels(data, trim=True))
    annotations = {"istio.io/rev": data.istiod.revision_label}
    annotations.update(_default_container_annotations(data))
    if data.istiod.cni_enabled:
        annotations.update(_cni_annotations(data))
    return {"metadata": {"labels": labels, "annotations": annotations}, "spec": spec}


def gateway(data: TemplateInput) -> dict:
    """The ``gateway`` template: one ``istio-proxy`` container running as a router, no init container."""
    proxy = {
        "name": PROXY_NAME,
        "image": data.proxy_image,
        "ports": [{"containerPort": 15090, "protocol": "TCP", "name": "http-envoy-prom"}],
        "args": [
            "proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
            "--proxyLogLevel=" + data.annotation("sidecar.istio.io/logLevel", "warning"),
            "--proxyComponentLogLevel=" + data.annotation("sidecar.istio.io/componentLogLevel", "misc:error"),
            "--log_output_level=" + data.annotation("sidecar.istio.io/agentLogLevel", "default:info"),
        ],
        "securityContext": {"runAsUser": PROXY_UID, "runAsGroup": PROXY_UID},
        "env": _proxy_env(data, "REDIRECT", for_gateway=True),
        "readinessProbe": _readiness_probe(),
        "volumeMounts": _volume_mounts(False),
    }
    annotations = {"istio.io/rev": data.istiod.revision_label}
    annotations.update(_default_container_annotations(data))
    return {
        "metadata": {"labels": _canonical_labels(data, trim=False), "annotations": annotations},
        "spec": {
            "securityContext": {"sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]},
            "containers": [proxy],
            "volumes": _volumes(False),
        },
    }


TEMPLATES = {"sidecar": sidecar, "gateway": gateway}
