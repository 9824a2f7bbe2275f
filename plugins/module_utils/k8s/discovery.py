# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find the API path of any kind: the known resources first, then one discovery GET per group/version.

Manifests hold kinds the collection does not list in resources.py (ClusterRole, HorizontalPodAutoscaler, ...);
their plural and scope come from the API server's discovery document, never from guessing.
"""

from __future__ import annotations

from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import MeshError
from ansible_collections.meshops.istio.plugins.module_utils.k8s.resources import KNOWN, Resource


class ResourceResolver:
    """Resolves ``(apiVersion, kind)`` to a :class:`Resource`, caching one discovery document per group/version."""

    def __init__(self, api) -> None:
        self.api = api
        self._served: dict = {}

    def resolve(self, api_version: str, kind: str) -> Resource:
        """The resource for an object's apiVersion and kind; MeshError when the API server does not serve it."""
        for resource in KNOWN:
            if resource.api_version == api_version and resource.kind == kind:
                return resource
        if api_version not in self._served:
            path = "/apis/%s" % api_version if "/" in api_version else "/api/%s" % api_version
            document = self.api.get_or_none(path) or {}
            self._served[api_version] = [r for r in document.get("resources") or [] if "/" not in r.get("name", "")]
        group, version = api_version.rpartition("/")[::2]
        for found in self._served[api_version]:
            if found.get("kind") == kind:
                return Resource(group, version, found["name"], kind, bool(found.get("namespaced")))
        raise MeshError("the API server does not serve kind %s in %s: install its CustomResourceDefinition or fix the "
                        "apiVersion in the manifest" % (kind, api_version), api_version=api_version, kind=kind)
