"""Discovery documents: ``/version``, ``/api``, ``/apis``, ``/apis/<group>`` and the resource lists per group version.

Served in the plain (unaggregated) form with ``Content-Type: application/json``: clients that ask for
aggregated discovery (``as=APIGroupDiscoveryList``) first fall back to these, as they do with older servers.
"""
from __future__ import annotations

import hashlib
import re

from .resources import Registry, ResourceType

# What discovery says about subresources: (kind, group, version, verbs); None group/version: the parent's.
_SUBRESOURCES = {
    "status": (None, None, None, ("get", "patch", "update")),
    "scale": ("Scale", "autoscaling", "v1", ("get", "patch", "update")),
    "log": (None, "", "v1", ("get",)),
    "eviction": ("Eviction", "policy", "v1", ("create",)),
    "ephemeralcontainers": (None, None, None, ("get", "patch", "update")),
    "binding": ("Binding", "", "v1", ("create",)),
    "finalize": (None, None, None, ("update",)),
    "token": ("TokenRequest", "authentication.k8s.io", "v1", ("create",)),
    "proxy": (None, "", "v1", ("create", "delete", "get", "patch", "update")),
}
_PROXY_KINDS = {"pods": "PodProxyOptions", "services": "ServiceProxyOptions", "nodes": "NodeProxyOptions"}


def version_info(server_version: str) -> dict:
    """The ``/version`` document for a server version such as ``v1.35.0``."""
    match = re.match(r"^v?(\d+)\.(\d+)", server_version)
    major, minor = (match.group(1), match.group(2)) if match else ("1", "35")
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
        "gitVersion": server_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-12-17T00:00:00Z",
        "goVersion": "go1.25.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict:
    """The ``/api`` document (core group versions)."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name: str, versions: list[str], preferred: str) -> dict:
    return {
        "name": name,
        "versions": [{"groupVersion": f"{name}/{v}", "version": v} for v in versions],
        "preferredVersion": {"groupVersion": f"{name}/{preferred}", "version": preferred},
    }


def api_group_list(registry: Registry) -> dict:
    """The ``/apis`` document: every named group with its versions, preferred version first."""
    groups = []
    for name, versions, preferred in registry.groups():
        if name:
            ordered = [preferred] + [v for v in versions if v != preferred]
            groups.append(_group(name, ordered, preferred))
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict | None:
    """The ``/apis/<group>`` document, or None when the group is not served."""
    for name, versions, preferred in registry.groups():
        if name and name == group:
            ordered = [preferred] + [v for v in versions if v != preferred]
            return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, ordered, preferred)}
    return None


def _storage_hash(rt: ResourceType) -> str:
    return hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).digest()[:8].hex()


def _resource_entry(rt: ResourceType) -> dict:
    entry = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
             "verbs": list(rt.verbs)}
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    entry["storageVersionHash"] = _storage_hash(rt)
    return entry


def _subresource_entry(rt: ResourceType, sub: str) -> dict:
    kind, group, version, verbs = _SUBRESOURCES.get(sub, (None, None, None, ("get",)))
    if sub == "proxy":
        kind = _PROXY_KINDS.get(rt.plural, "ProxyOptions")
    entry = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced, "kind": kind or rt.kind,
             "verbs": list(verbs)}
    if group is not None and (group, version) != (rt.group, rt.version):
        entry["group"], entry["version"] = group, version
    return entry


def resource_list(registry: Registry, group: str, version: str) -> dict | None:
    """The ``APIResourceList`` of one group version (with subresources), or None when it is not served."""
    types = registry.in_group_version(group, version)
    if not types:
        return None
    resources = []
    for rt in types:
        resources.append(_resource_entry(rt))
        resources.extend(_subresource_entry(rt, sub) for sub in rt.subresources)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources}
