"""A minimal OpenAPI v3 document set, enough for kubectl's client-side checks.

kubectl reads ``/openapi/v3`` to learn whether the server validates fields itself (the ``fieldValidation``
query parameter on each kind's PATCH operation, marked with ``x-kubernetes-group-version-kind``); when it
does, kubectl leaves validation to the server. The documents list no schemas and do not offer strategic merge
patch in the request bodies, so ``kubectl apply`` builds its patches from its compiled-in types (built-in
kinds) or as JSON merge patches (custom resources), as it does against a server without OpenAPI schemas.
``/openapi/v2`` is not served (404), which kubectl tolerates.
"""
from __future__ import annotations

import hashlib
import json

from .resources import Registry, ResourceType

_PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")
_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "pretty")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _query_params(names) -> list[dict]:
    return [{"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True} for name in names]


def _operation(rt: ResourceType, action: str, params, body_types=()) -> dict:
    operation = {
        "operationId": f"{action}{rt.kind}",
        "parameters": _query_params(params),
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
    }
    if body_types:
        operation["requestBody"] = {"content": {t: {"schema": {"type": "object"}} for t in body_types}, "required": True}
    return operation


def _paths_of(rt: ResourceType) -> dict:
    base = "/" + _gv_path(rt.group, rt.version)
    collection = f"{base}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"
    item = f"{collection}/{{name}}"
    return {
        collection: {
            "get": _operation(rt, "list", ("labelSelector", "fieldSelector", "limit", "continue", "watch")),
            "post": _operation(rt, "post", _WRITE_PARAMS, ("*/*",)),
        },
        item: {
            "get": _operation(rt, "get", ("pretty",)),
            "put": _operation(rt, "put", _WRITE_PARAMS, ("*/*",)),
            "patch": _operation(rt, "patch", _WRITE_PARAMS + ("force",), _PATCH_TYPES),
            "delete": _operation(rt, "delete", ("dryRun", "propagationPolicy", "gracePeriodSeconds")),
        },
    }


def group_version_document(registry: Registry, group: str, version: str, server_version: str) -> dict | None:
    """The OpenAPI v3 document of one group version, or None when it is not served."""
    types = registry.in_group_version(group, version)
    if not types:
        return None
    paths: dict = {}
    for rt in types:
        paths.update(_paths_of(rt))
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (simcluster)", "version": server_version},
            "paths": paths, "components": {"schemas": {}}}


def root_document(registry: Registry, server_version: str) -> dict:
    """The ``/openapi/v3`` index: each group version's document URL, with a hash that changes with its content."""
    paths = {}
    seen = set()
    for rt in registry.all():
        if (rt.group, rt.version) in seen:
            continue
        seen.add((rt.group, rt.version))
        document = group_version_document(registry, rt.group, rt.version, server_version)
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32].upper()
        path = _gv_path(rt.group, rt.version)
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
