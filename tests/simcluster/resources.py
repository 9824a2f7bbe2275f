"""Resource types served by the simulated API server: the built-in kinds and the CRDs added at run time.

A *resource key* names where objects are stored: ``"<plural>"`` for the core group and
``"<group>/<plural>"`` otherwise. A type served under several versions (``autoscaling/v1`` and
``autoscaling/v2``) has one key: its objects are stored once, and only ``apiVersion`` differs on the way out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from .errors import ApiError

STANDARD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NAMESPACE_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    """One resource as discovery describes it, in one group and version."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = STANDARD_VERBS
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    preferred: bool = True
    custom: bool = False
    scale_paths: tuple[str, str, str] = field(default=("", "", ""))

    @property
    def key(self) -> str:
        """The storage key: ``"pods"`` or ``"apps/deployments"``."""
        return f"{self.group}/{self.plural}" if self.group else self.plural

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` of objects of this type: ``"v1"`` or ``"apps/v1"``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        """The discovery ``groupVersion`` (same text as ``api_version``)."""
        return self.api_version

    @property
    def list_kind(self) -> str:
        """The kind of a list of these objects (``PodList``)."""
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        """Whether the type has a ``status`` subresource."""
        return "status" in self.subresources

    @property
    def has_scale(self) -> bool:
        """Whether the type has a ``scale`` subresource."""
        return "scale" in self.subresources


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` -> ``("apps", "v1")``; ``"v1"`` -> ``("", "v1")``."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def _rt(group, version, kind, plural, namespaced, short=(), subresources=(), categories=(), verbs=STANDARD_VERBS, preferred=True):
    return ResourceType(group=group, version=version, kind=kind, plural=plural, singular=kind.lower(),
                        namespaced=namespaced, short_names=tuple(short), verbs=tuple(verbs),
                        subresources=tuple(subresources), categories=tuple(categories), preferred=preferred)


_ALL = ("all",)
_STATUS = ("status",)
_STATUS_SCALE = ("status", "scale")
_API_EXT = ("api-extensions",)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    # core/v1
    _rt("", "v1", "Namespace", "namespaces", False, ("ns",), ("status", "finalize"), verbs=NAMESPACE_VERBS),
    _rt("", "v1", "Pod", "pods", True, ("po",), ("status", "log", "eviction", "ephemeralcontainers", "binding"), _ALL),
    _rt("", "v1", "Service", "services", True, ("svc",), ("status", "proxy"), _ALL),
    _rt("", "v1", "Endpoints", "endpoints", True, ("ep",)),
    _rt("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    _rt("", "v1", "Secret", "secrets", True),
    _rt("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",), ("token",)),
    _rt("", "v1", "Event", "events", True, ("ev",)),
    _rt("", "v1", "Node", "nodes", False, ("no",), ("status", "proxy")),
    _rt("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), _STATUS),
    _rt("", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), _STATUS),
    _rt("", "v1", "ReplicationController", "replicationcontrollers", True, ("rc",), _STATUS_SCALE, _ALL),
    # apps/v1
    _rt("apps", "v1", "Deployment", "deployments", True, ("deploy",), _STATUS_SCALE, _ALL),
    _rt("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), _STATUS_SCALE, _ALL),
    _rt("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), _STATUS_SCALE, _ALL),
    _rt("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), _STATUS, _ALL),
    _rt("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    # batch/v1
    _rt("batch", "v1", "Job", "jobs", True, (), _STATUS, _ALL),
    _rt("batch", "v1", "CronJob", "cronjobs", True, ("cj",), _STATUS, _ALL),
    # policy/v1
    _rt("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), _STATUS),
    # autoscaling: v2 is preferred, v1 is still served
    _rt("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",), _STATUS, _ALL),
    _rt("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",), _STATUS, _ALL, preferred=False),
    # rbac.authorization.k8s.io/v1
    _rt("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    _rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    # authorization.k8s.io/v1: reviews are created and answered, never stored (access.py)
    _rt("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False, verbs=("create",)),
    _rt("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False, verbs=("create",)),
    # admissionregistration.k8s.io/v1
    _rt("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", False,
        categories=_API_EXT),
    _rt("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", False,
        categories=_API_EXT),
    # apiextensions.k8s.io/v1
    _rt("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False, ("crd", "crds"), _STATUS,
        _API_EXT),
    # coordination.k8s.io/v1
    _rt("coordination.k8s.io", "v1", "Lease", "leases", True),
    # discovery.k8s.io/v1
    _rt("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    # events.k8s.io/v1 (stored apart from core events here)
    _rt("events.k8s.io", "v1", "Event", "events", True, ("ev",)),
    # networking.k8s.io/v1
    _rt("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",)),
    _rt("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",), _STATUS),
    _rt("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
)


class Registry:
    """The resource types one API server serves; thread-safe; CRDs are added and removed at run time."""

    def __init__(self, types: tuple[ResourceType, ...] = BUILTIN_TYPES) -> None:
        self._lock = threading.RLock()
        self._types: list[ResourceType] = []
        self._by_gvr: dict[tuple[str, str, str], ResourceType] = {}
        self._by_gvk: dict[tuple[str, str], ResourceType] = {}
        self._by_key: dict[str, ResourceType] = {}
        for resource_type in types:
            self._add(resource_type)

    def _add(self, rt: ResourceType) -> None:
        self._types.append(rt)
        self._by_gvr[(rt.group, rt.version, rt.plural)] = rt
        self._by_gvk[(rt.api_version, rt.kind)] = rt
        if rt.preferred or rt.key not in self._by_key:
            self._by_key[rt.key] = rt

    def _rebuild(self, types: list[ResourceType]) -> None:
        self._types, self._by_gvr, self._by_gvk, self._by_key = [], {}, {}, {}
        for rt in types:
            self._add(rt)

    def all(self) -> list[ResourceType]:
        """Every served (group, version, resource), built-ins first, in registration order."""
        with self._lock:
            return list(self._types)

    def keys(self) -> list[str]:
        """Every storage key, once each."""
        with self._lock:
            return list(self._by_key)

    def by_key(self, key: str) -> ResourceType | None:
        """The preferred version's type for a storage key, or None."""
        with self._lock:
            return self._by_key.get(key)

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at ``/apis/<group>/<version>/<plural>`` (core: group ``""``), or None."""
        with self._lock:
            return self._by_gvr.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        """The type of objects with this ``apiVersion`` and ``kind``, or None."""
        with self._lock:
            return self._by_gvk.get((api_version, kind))

    def versions_of(self, key: str) -> list[ResourceType]:
        """Every served version of a storage key, preferred first."""
        with self._lock:
            found = [rt for rt in self._types if rt.key == key]
        return sorted(found, key=lambda rt: not rt.preferred)

    def groups(self) -> list[tuple[str, list[str], str]]:
        """Discovery's groups in order: ``(group, versions, preferred_version)``; core group is ``""``."""
        with self._lock:
            order: dict[str, list[str]] = {}
            preferred: dict[str, str] = {}
            for rt in self._types:
                versions = order.setdefault(rt.group, [])
                if rt.version not in versions:
                    versions.append(rt.version)
                if rt.preferred:
                    preferred.setdefault(rt.group, rt.version)
        return [(g, v, preferred.get(g, v[0])) for g, v in order.items()]

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        """Every type served in one group version (discovery's resource list)."""
        with self._lock:
            return [rt for rt in self._types if rt.group == group and rt.version == version]

    def resolve(self, name: str, group: str | None = None) -> ResourceType | None:
        """Find a type by plural, singular, short name or kind (case-insensitive), optionally in one group."""
        lowered = name.lower()
        with self._lock:
            for rt in self._types:
                if group is not None and rt.group != group:
                    continue
                if lowered in (rt.plural, rt.singular, rt.kind.lower()) or lowered in rt.short_names:
                    return rt
        return None

    def key_for(self, api_version: str, kind: str) -> str:
        """The storage key of objects with this ``apiVersion`` and ``kind``; ApiError 404 when not served."""
        rt = self.by_kind(api_version, kind)
        if rt is None:
            raise ApiError(404, "NotFound", f'the server could not find the requested resource: no matches for kind "{kind}" '
                           f'in version "{api_version}"')
        return rt.key

    def register_crd(self, crd: dict) -> list[ResourceType]:
        """Serve every ``served`` version of a CustomResourceDefinition; return the types added.

        Re-registering replaces the CRD's earlier versions (an updated CRD).
        """
        spec = crd.get("spec") or {}
        group = spec.get("group") or ""
        names = spec.get("names") or {}
        kind, plural = names.get("kind"), names.get("plural")
        if not group or not kind or not plural:
            raise ApiError(422, "Invalid", f'CustomResourceDefinition "{(crd.get("metadata") or {}).get("name", "")}" is invalid: '
                           "spec.group, spec.names.kind and spec.names.plural are required")
        served = [v for v in spec.get("versions") or [] if v.get("served", True)]
        storage = next((v["name"] for v in served if v.get("storage")), served[0]["name"] if served else "")
        added = []
        for version in served:
            subresources = version.get("subresources") or {}
            sub = tuple(s for s in ("status", "scale") if s in subresources)
            scale = subresources.get("scale") or {}
            added.append(ResourceType(
                group=group, version=version["name"], kind=kind, plural=plural,
                singular=names.get("singular") or kind.lower(),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()), subresources=sub,
                categories=tuple(names.get("categories") or ()), preferred=version["name"] == storage, custom=True,
                scale_paths=(scale.get("specReplicasPath", ""), scale.get("statusReplicasPath", ""),
                             scale.get("labelSelectorPath", "")),
            ))
        key = f"{group}/{plural}"
        with self._lock:
            kept = [rt for rt in self._types if not (rt.custom and rt.key == key)]
            self._rebuild(kept + added)
        return added

    def unregister_crd(self, crd: dict) -> None:
        """Stop serving a CustomResourceDefinition's kind (all versions)."""
        spec = crd.get("spec") or {}
        key = f"{spec.get('group', '')}/{(spec.get('names') or {}).get('plural', '')}"
        with self._lock:
            self._rebuild([rt for rt in self._types if not (rt.custom and rt.key == key)])


BUILTIN = Registry()


def key_for(api_version: str, kind: str, registry: Registry | None = None) -> str:
    """The storage key of an object (``"pods"``, ``"apps/deployments"``), looked up in ``registry`` or the built-ins."""
    return (registry or BUILTIN).key_for(api_version, kind)
