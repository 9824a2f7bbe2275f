"""What istiod's injector does with a pod it is called for: the policy check, the templates, the post-processing.

Follows ``pkg/kube/inject`` (``injectRequired``, ``RunTemplate``, ``reapplyOverwrittenContainers``,
``postProcessPod``): the rendered templates are merged onto the pod by name (containers, volumes,
env, ...), a pod's own ``istio-proxy`` container is merged back over the injected one, then the
Prometheus annotations, the ``sidecar.istio.io/status`` annotation and the container order are set.
A pod that already carries ``sidecar.istio.io/status`` is re-injected, never injected twice.
"""

from __future__ import annotations

import copy
import json
import re

from . import templates
from .controlplane import Istiod
from .templates import INIT_NAME, PROXY_NAME, STATUS_PORT, VALIDATION_NAME, TemplateInput

STATUS_ANNOTATION = "sidecar.istio.io/status"
INJECT_KEY = "sidecar.istio.io/inject"
TEMPLATES_ANNOTATION = "inject.istio.io/templates"
OVERRIDES_ANNOTATION = "proxy.istio.io/overrides"
PROMETHEUS_ENV = "ISTIO_PROMETHEUS_ANNOTATIONS"
ENABLE_CORE_DUMP_NAME = "enable-core-dump"
IGNORED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "local-path-storage")
DEFAULT_TEMPLATES = ("sidecar",)

_PROMETHEUS_KEYS = ("prometheus.io/scrape", "prometheus.io/path", "prometheus.io/port", "prometheus.istio.io/scrape-targets")
_CRONJOB_NAME = re.compile(r"(.+)-\d{8,10}$")
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")
# Strategic-merge keys of the pod fields the templates touch.
_MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name", "imagePullSecrets": "name",
               "env": "name", "ports": "containerPort", "volumeMounts": "mountPath"}
# corev1.Container field order, so that JSON written into annotations reads like Go's.
_CONTAINER_FIELDS = ("name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources", "resizePolicy",
                     "restartPolicy", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe",
                     "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "securityContext")


class InjectionDenied(Exception):
    """istiod answered the admission request with ``allowed: false``; the text is its reason."""


def _meta(pod: dict) -> dict:
    return pod.setdefault("metadata", {})


def injection_required(pod: dict) -> bool:
    """istiod's own policy check (``injectRequired``) with the default policy ``enabled``.

    No injection for hostNetwork pods, pods in kube-system, kube-public, kube-node-lease or
    local-path-storage, or pods saying ``sidecar.istio.io/inject: "false"`` (the label wins over the
    annotation); anything else is injected.
    """
    if (pod.get("spec") or {}).get("hostNetwork"):
        return False
    meta = pod.get("metadata") or {}
    if meta.get("namespace") in IGNORED_NAMESPACES:
        return False
    labels = meta.get("labels") or {}
    choice = labels[INJECT_KEY] if INJECT_KEY in labels else (meta.get("annotations") or {}).get(INJECT_KEY, "")
    return choice != "false"


def workload_of(pod: dict) -> tuple[str, str, str, str]:
    """(name, namespace, apiVersion, kind) of the workload that owns a pod, by istiod's heuristics.

    A ReplicaSet whose name ends in the pod's ``pod-template-hash`` means its Deployment; a Job named
    ``<name>-<8 to 10 digits>`` means a CronJob; a pod without ``generateName`` is its own workload.
    """
    meta = pod.get("metadata") or {}
    name, namespace = meta.get("name", ""), meta.get("namespace", "")
    api_version, kind = "v1", "Pod"
    labels = meta.get("labels") or {}
    if meta.get("generateName"):
        controller = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
        if controller:
            api_version, kind, name = controller.get("apiVersion", ""), controller.get("kind", ""), controller.get("name", "")
            pod_hash = labels.get("pod-template-hash", "")
            if kind == "ReplicaSet" and pod_hash and name.endswith(pod_hash):
                name, kind = name[: -len(pod_hash) - 1], "Deployment"
            elif kind == "Job":
                cron = _CRONJOB_NAME.match(name)
                if cron:
                    name, kind, api_version = cron.group(1), "CronJob", "batch/v1"
    return name or meta.get("name", ""), namespace, api_version, kind


def parse_status(pod: dict) -> dict | None:
    """The ``sidecar.istio.io/status`` annotation as a dict, or ``None`` when absent or unreadable."""
    text = ((pod.get("metadata") or {}).get("annotations") or {}).get(STATUS_ANNOTATION)
    if text is None:
        return None
    try:
        status = json.loads(text)
    except ValueError:
        return None
    return status if isinstance(status, dict) else None


def _names(items: list | None) -> list[str]:
    return [i.get("name") for i in items or []]


def _strip(pod: dict) -> dict:
    """The pod as the template sees it: previously injected containers removed, earlier overrides put back."""
    stripped = copy.deepcopy(pod)
    spec = stripped.setdefault("spec", {})
    annotations = _meta(stripped).setdefault("annotations", {})
    status = parse_status(stripped)
    if status is not None:
        spec["containers"] = [c for c in spec.get("containers") or [] if c.get("name") not in (status.get("containers") or [])]
        spec["initContainers"] = [c for c in spec.get("initContainers") or []
                                  if c.get("name") not in (status.get("initContainers") or [])]
        if annotations.get("prometheus.io/port") == STATUS_PORT:
            for key in _PROMETHEUS_KEYS:
                annotations.pop(key, None)
        annotations.pop(STATUS_ANNOTATION, None)
    overrides = _parse_overrides(pod)
    for field in ("containers", "initContainers"):
        present = set(_names(spec.get(field)))
        spec[field] = (spec.get(field) or []) + [c for c in overrides.get(field) or [] if c.get("name") not in present]
    return stripped


def _parse_overrides(pod: dict) -> dict:
    text = ((pod.get("metadata") or {}).get("annotations") or {}).get(OVERRIDES_ANNOTATION)
    if not text:
        return {}
    try:
        overrides = json.loads(text)
    except ValueError as exc:
        raise InjectionDenied(f"failed to re apply container: {exc}") from exc
    return overrides if isinstance(overrides, dict) else {}


def merge(base: dict, overlay: dict) -> dict:
    """Strategic merge of a partial pod (or container) onto another, for the fields injection touches.

    Lists of containers, volumes, env, ports and volume mounts merge item by item on their key
    (new items are appended); other lists are replaced; maps merge recursively.
    """
    result = dict(base)
    for key, value in overlay.items():
        current = result.get(key)
        if key in _MERGE_KEYS and isinstance(value, list) and isinstance(current, list):
            result[key] = _merge_list(current, value, _MERGE_KEYS[key])
        elif isinstance(value, dict) and isinstance(current, dict):
            result[key] = merge(current, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _merge_list(base: list, overlay: list, merge_key: str) -> list:
    result = list(base)
    for item in overlay:
        index = next((i for i, b in enumerate(result) if isinstance(b, dict) and b.get(merge_key) == item.get(merge_key)), None)
        if index is None:
            result.append(copy.deepcopy(item))
        else:
            result[index] = merge(result[index], item)
    return result


def _selected_templates(pod: dict) -> list[str]:
    text = ((pod.get("metadata") or {}).get("annotations") or {}).get(TEMPLATES_ANNOTATION)
    names = [n.strip() for n in text.split(",")] if text is not None else list(DEFAULT_TEMPLATES)
    for name in names:
        if name not in templates.TEMPLATES:
            raise InjectionDenied(f'failed to run injection template: requested template "{name}" not found; '
                                  f"have {', '.join(sorted(templates.TEMPLATES))}")
    return names


def _find(containers: list | None, name: str) -> dict | None:
    return next((c for c in containers or [] if c.get("name") == name), None)


def _go_container_json(container: dict) -> dict:
    ordered = {k: container[k] for k in _CONTAINER_FIELDS if k in container}
    ordered.update({k: v for k, v in container.items() if k not in ordered})
    return ordered


def _reapply_user_containers(merged: dict, original: dict, template_pod: dict) -> dict:
    """Merge the pod's own definitions of injected containers back over them (``image: auto`` keeps the injected image)."""
    status = parse_status(original)
    already_injected = status is not None
    overrides = _parse_overrides(original)
    applied: dict[str, list] = {"containers": [], "initContainers": []}
    original_spec = original.get("spec") or {}
    for field in ("containers", "initContainers"):
        previously = (status or {}).get(field) or []
        for injected in (template_pod.get("spec") or {}).get(field) or []:
            name = injected.get("name")
            if name in previously:
                continue
            match = _find(overrides.get(field), name)
            if match is None:
                match = _find(original_spec.get("containers"), name) if field == "containers" else (
                    _find(original_spec.get("initContainers"), name) or _find(original_spec.get("containers"), name))
            if match is None:
                continue
            overlay = copy.deepcopy(match)
            if overlay.get("image") == "auto":
                overlay.pop("image")
            applied[field].append(overlay)
            merged = merge(merged, {"spec": {field: [overlay]}})
    if not already_injected and (applied["containers"] or applied["initContainers"]):
        record = {k: [_go_container_json(c) for c in v] for k, v in applied.items() if v}
        _meta(merged).setdefault("annotations", {})[OVERRIDES_ANNOTATION] = json.dumps(record, separators=(",", ":"))
    return merged


def _sidecar_of(pod: dict) -> dict | None:
    spec = pod.get("spec") or {}
    return _find(spec.get("containers"), PROXY_NAME) or _find(spec.get("initContainers"), PROXY_NAME)


def _apply_prometheus_merge(pod: dict) -> None:
    """Point Prometheus at the agent (port 15020) and hand the app's own scrape settings to it in an env var."""
    annotations = _meta(pod).setdefault("annotations", {})
    if annotations.get("prometheus.io/scrape") in _FALSE:
        return
    if annotations.get("prometheus.istio.io/merge-metrics") in _FALSE:
        return
    if annotations.get("prometheus.io/port") == STATUS_PORT:
        return
    scrape = {"scrape": annotations.get("prometheus.io/scrape", ""), "path": annotations.get("prometheus.io/path", ""),
              "port": annotations.get("prometheus.io/port", "")}
    sidecar = _sidecar_of(pod)
    if sidecar is not None and any(scrape.values()):
        sidecar.setdefault("env", []).append({"name": PROMETHEUS_ENV, "value": json.dumps(scrape, separators=(",", ":"))})
    for key in _PROMETHEUS_KEYS:
        annotations.pop(key, None)
    annotations["prometheus.io/port"] = STATUS_PORT
    annotations["prometheus.io/path"] = "/stats/prometheus"
    annotations["prometheus.io/scrape"] = "true"


def status_annotation(template_spec: dict, revision: str) -> str:
    """``sidecar.istio.io/status``: names of what the templates injected, in Istio's key order (empty lists are null)."""
    status = {
        "initContainers": _names(template_spec.get("initContainers")) or None,
        "containers": _names(template_spec.get("containers")) or None,
        "volumes": _names(template_spec.get("volumes")) or None,
        "imagePullSecrets": _names(template_spec.get("imagePullSecrets")) or None,
        "revision": revision or "default",
    }
    return json.dumps(status, separators=(",", ":"))


def _move(containers: list, name: str, first: bool) -> list:
    match = _find(containers, name)
    if match is None:
        return containers
    rest = [c for c in containers if c.get("name") != name]
    return [match] + rest if first else rest + [match]


def _reorder(pod: dict) -> None:
    """``istio-proxy`` last among containers; native: init, validation, proxy first; else validation first, init last."""
    spec = pod.setdefault("spec", {})
    if spec.get("containers"):
        spec["containers"] = _move(spec["containers"], PROXY_NAME, first=False)
    init = spec.get("initContainers") or []
    if _find(init, PROXY_NAME):
        for name in (ENABLE_CORE_DUMP_NAME, PROXY_NAME, VALIDATION_NAME, INIT_NAME):
            init = _move(init, name, first=True)
    else:
        init = _move(init, VALIDATION_NAME, first=True)
        init = _move(init, INIT_NAME, first=False)
        init = _move(init, ENABLE_CORE_DUMP_NAME, first=False)
    if init or "initContainers" in spec:
        spec["initContainers"] = init


def inject(pod: dict, istiod: Istiod, native_sidecar: bool) -> dict:
    """Return the pod as ``istiod`` injects it (a new dict; ``pod`` is left alone).

    Raises ``InjectionDenied`` when istiod refuses the pod (an unknown template, unreadable overrides).
    """
    original = copy.deepcopy(pod)
    stripped = _strip(original)
    name, namespace, api_version, kind = workload_of(original)
    data = TemplateInput(pod=stripped, istiod=istiod, native_sidecar=native_sidecar, workload_name=name,
                         workload_namespace=namespace, owner_api_version=api_version, owner_kind=kind)
    merged = copy.deepcopy(original)
    template_pod: dict = {}
    for template_name in _selected_templates(original):
        overlay = templates.TEMPLATES[template_name](data)
        template_pod = merge(template_pod, overlay)
        overlay_init = (overlay.get("spec") or {}).get("initContainers")
        merged_spec = merged.setdefault("spec", {})
        if native_sidecar and _find(overlay_init, PROXY_NAME) and _find(merged_spec.get("containers"), PROXY_NAME):
            moved = _find(merged_spec["containers"], PROXY_NAME)
            merged_spec["containers"] = [c for c in merged_spec["containers"] if c is not moved]
            merged_spec["initContainers"] = (merged_spec.get("initContainers") or []) + [moved]
        merged = merge(merged, overlay)
    merged = _reapply_user_containers(merged, original, template_pod)
    _apply_prometheus_merge(merged)
    _meta(merged).setdefault("annotations", {})[STATUS_ANNOTATION] = status_annotation(template_pod.get("spec") or {}, istiod.revision)
    _reorder(merged)
    return merged
