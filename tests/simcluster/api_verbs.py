"""The verbs on resources: get, list, watch, create, update, patch, delete, deletecollection, and the
``status`` and ``scale`` subresources, with the real server's answers (codes, ``Status`` bodies, Tables)."""
from __future__ import annotations

import json

import yaml

from . import api_table, errors
from .api_http import Response
from .api_protobuf import PROTOBUF, decode_object
from .api_table import wants_partial_metadata, wants_table
from .api_watch import watch_stream
from .patch import clone, json_patch, merge_patch, server_side_apply, strategic_merge_patch
from .store import to_scale

# Kinds whose DELETE answers with the deleted object; others answer with a Status (as the real registries do).
RETURNS_DELETED_OBJECT = frozenset({"pods", "services", "serviceaccounts", "namespaces",
                                    "apiextensions.k8s.io/customresourcedefinitions"})
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
               "application/apply-patch+yaml", "application/apply-patch+cbor")
_CONFLICT_RETRIES = 5


def _dry_run(query: dict, options: dict | None = None) -> bool:
    values = [query.get("dryRun", "")]
    values += list((options or {}).get("dryRun") or ())
    for value in values:
        if value and value != "All":
            raise errors.bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return any(values)


def _field_manager(request, default_from_agent: bool = True) -> str | None:
    manager = request.query.get("fieldManager")
    if manager:
        return manager
    if default_from_agent:
        agent = request.header("user-agent")
        return agent.split("/", 1)[0] or "unknown" if agent else "unknown"
    return None


def _media(request) -> str:
    return request.header("content-type", "application/json").split(";", 1)[0].strip().lower()


def parse_body(request, *, allow_yaml: bool = False):
    """The request body as a document (JSON, YAML for apply, or protobuf); 400 BadRequest when it cannot be read."""
    if not request.body:
        raise errors.bad_request("the request has no body: send the object as JSON")
    if _media(request) == PROTOBUF:
        return decode_object(request.body)
    try:
        if allow_yaml:
            return yaml.safe_load(request.body)
        return json.loads(request.body)
    except (ValueError, yaml.YAMLError) as exc:
        raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from exc


class ResourceVerbs:
    """Answers the resource verbs over a ``Store``."""

    def __init__(self, store) -> None:
        self.store = store

    # ----------------------------------------------------------------------------------------- dispatch

    def handle(self, request, info):
        """Answer one resource request (``info`` from ``ApiRouter.describe``)."""
        rt = info.resource_type
        if rt is None:
            raise errors.ApiError(404, "NotFound", f"the server could not find the requested resource "
                                  f"(resource {info.plural!r} is not served in {info.group or 'core'}/{info.version})")
        if info.namespace and not rt.namespaced:
            raise errors.ApiError(404, "NotFound", f"the server could not find the requested resource "
                                  f"({rt.plural} is not namespaced: use /{'apis/' + rt.group if rt.group else 'api'}/{rt.version}/{rt.plural})")
        if info.subresource and info.subresource not in ("status", "scale"):
            if info.subresource in rt.subresources:
                raise errors.ApiError(404, "NotFound", f"the simulated cluster does not serve {rt.plural}/{info.subresource}")
            raise errors.ApiError(404, "NotFound", f"the server could not find the requested resource ({rt.plural}/{info.subresource})")
        if info.subresource and info.subresource not in rt.subresources:
            raise errors.ApiError(404, "NotFound", f"the server could not find the requested resource ({rt.plural}/{info.subresource})")
        handler = getattr(self, f"_{info.verb}", None)
        if handler is None or (info.subresource and info.verb not in ("get", "update", "patch")):
            raise errors.method_not_allowed(f"the server does not allow this method on the requested resource "
                                            f"({request.method} {rt.plural}{'/' + info.subresource if info.subresource else ''})")
        result = handler(request, info, rt)
        if isinstance(result, Response):
            return result
        status, document = result
        return Response.json(status, document, pretty=request.query.get("pretty") == "true")

    # ----------------------------------------------------------------------------------------- output

    @staticmethod
    def _outward(rt, obj: dict) -> dict:
        """``obj`` as served under ``rt``'s version; a new top-level dict, so a stored object can be passed."""
        return {**obj, "apiVersion": rt.api_version, "kind": rt.kind}

    def _render_object(self, request, rt, obj: dict, subresource: str = "") -> dict:
        if subresource == "scale":
            return to_scale(rt, obj)
        obj = self._outward(rt, obj)
        if wants_table(request):
            return api_table.table(rt.key, [obj], request.query.get("includeObject", "Metadata"),
                                   {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
        if wants_partial_metadata(request):
            return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}
        return obj

    # ----------------------------------------------------------------------------------------- reads

    def _get(self, request, info, rt):
        obj = self.store.get(rt.key, info.namespace, info.name)
        if obj is None:
            raise errors.not_found(rt, info.name)
        return 200, self._render_object(request, rt, obj, info.subresource)

    def _list(self, request, info, rt):
        query = request.query
        limit = int(query["limit"]) if query.get("limit", "").isdigit() and int(query["limit"]) > 0 else None
        # The stored objects themselves (no copies): every path below only reads and serializes them.
        result = self.store.list(rt.key, info.namespace or None, query.get("labelSelector"), query.get("fieldSelector"),
                                 limit=limit, continue_after=query.get("continue") or None, copy=False)
        list_meta = {"resourceVersion": result.resource_version}
        if result.continue_token:
            list_meta["continue"] = result.continue_token
            if result.remaining_item_count is not None:
                list_meta["remainingItemCount"] = result.remaining_item_count
        if not (wants_table(request) or wants_partial_metadata(request) or query.get("pretty") == "true"):
            envelope = {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": list_meta}
            return Response.json_list(200, envelope, [self.store.serialized(rt.key, obj, rt.api_version, rt.kind)
                                                      for obj in result.items])
        items = [self._outward(rt, obj) for obj in result.items]
        if wants_table(request):
            return 200, api_table.table(rt.key, items, query.get("includeObject", "Metadata"), list_meta)
        if wants_partial_metadata(request):
            return 200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
                         "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                    "metadata": obj["metadata"]} for obj in items]}
        return 200, {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": list_meta, "items": items}

    def _watch(self, request, info, rt):
        return Response(200, stream=watch_stream(self.store, request, info, rt, self._outward))

    # ----------------------------------------------------------------------------------------- writes

    def _check_target(self, info, rt, obj, *, for_create: bool) -> dict:
        if not isinstance(obj, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        obj.setdefault("apiVersion", rt.api_version)
        obj.setdefault("kind", rt.kind)
        if obj.get("kind") != rt.kind:
            raise errors.bad_request(f"the kind of the provided object ({obj.get('kind')}) does not match the resource "
                                     f"{rt.plural} (kind {rt.kind}) of the request URL")
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != info.namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
            if not info.namespace:
                raise errors.bad_request(f"{rt.plural} are namespaced: send the request to a namespace path")
            meta["namespace"] = info.namespace
        else:
            meta.pop("namespace", None)
        if not for_create and meta.get("name") != info.name:
            raise errors.bad_request(f"the name of the object ({meta.get('name')}) does not match the name on the URL ({info.name})")
        # Objects are stored in their kind's preferred version; the stored apiVersion does not vary with the URL.
        obj["apiVersion"] = (self.store.registry.by_key(rt.key) or rt).api_version
        return obj

    def _create(self, request, info, rt):
        if info.name:
            raise errors.method_not_allowed(f"the server does not allow POST on a named {rt.singular}: POST to the collection")
        dry_run = _dry_run(request.query)
        obj = self._check_target(info, rt, parse_body(request), for_create=True)
        created = self.store.create(obj, dry_run=dry_run, field_manager=_field_manager(request))
        info.name = created["metadata"]["name"]  # for the request log: the name the body (or generateName) gave
        return 201, self._render_object(request, rt, created)

    def _update(self, request, info, rt):
        dry_run = _dry_run(request.query)
        body = parse_body(request)
        if info.subresource == "scale":
            return 200, self._write_scale(request, info, rt, body, dry_run)
        obj = self._check_target(info, rt, body, for_create=False)
        updated = self.store.update(obj, dry_run=dry_run, subresource=info.subresource or None,
                                    field_manager=_field_manager(request))
        return 200, self._render_object(request, rt, updated)

    def _write_scale(self, request, info, rt, scale: dict, dry_run: bool) -> dict:
        if not isinstance(scale, dict):
            raise errors.bad_request("the body of a scale request must be a Scale object")
        meta = scale.get("metadata") or {}
        target = {"apiVersion": (self.store.registry.by_key(rt.key) or rt).api_version, "kind": rt.kind,
                  "metadata": {"name": info.name, "namespace": info.namespace,
                               "resourceVersion": meta.get("resourceVersion", "")},
                  "spec": {"replicas": (scale.get("spec") or {}).get("replicas")}}
        if meta.get("name") and meta["name"] != info.name:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({info.name})")
        updated = self.store.update(target, dry_run=dry_run, subresource="scale")
        return self._render_object(request, rt, updated, "scale")

    def _patch(self, request, info, rt):
        media = _media(request)
        if media not in PATCH_TYPES or media == "application/apply-patch+cbor":
            raise errors.unsupported_media_type(media)
        dry_run = _dry_run(request.query)
        is_apply = media == "application/apply-patch+yaml"
        body = parse_body(request, allow_yaml=is_apply)
        force = request.query.get("force", "").lower() == "true"
        if force and not is_apply:
            raise errors.bad_request("force: Forbidden: may not be specified for non-apply patch")
        manager = _field_manager(request, default_from_agent=not is_apply)
        # The server retries a patch whose target changed underneath, unless the patch pinned a resourceVersion.
        pinned = isinstance(body, dict) and bool((body.get("metadata") or {}).get("resourceVersion"))
        attempts = 1 if pinned or is_apply else _CONFLICT_RETRIES
        while True:
            attempts -= 1
            live = self.store.get(rt.key, info.namespace, info.name)
            if live is None and not (is_apply and not info.subresource):
                raise errors.not_found(rt, info.name)
            try:
                return self._patch_once(request, info, rt, live, body, media, manager, force, dry_run)
            except errors.ApiError as exc:
                if exc.reason != "Conflict" or attempts <= 0:
                    raise

    def _patch_once(self, request, info, rt, live, body, media, manager, force, dry_run):  # pylint: disable=too-many-arguments
        if media == "application/apply-patch+yaml":
            if isinstance(body, dict):
                self._check_target(info, rt, body, for_create=False)
            if live is None:
                created = self.store.create(server_side_apply(None, body, manager, force), dry_run=dry_run)
                return 201, self._render_object(request, rt, created)
            live_view = self._outward(rt, clone(live))
            new = server_side_apply(live_view, body, manager, force)
            new["apiVersion"] = live["apiVersion"]
            updated = self.store.update(new, dry_run=dry_run, subresource=info.subresource or None)
            return 200, self._render_object(request, rt, updated, info.subresource)
        current = to_scale(rt, live) if info.subresource == "scale" else self._outward(rt, clone(live))
        if media == "application/json-patch+json":
            new = json_patch(current, body)
        elif media == "application/merge-patch+json":
            new = merge_patch(current, body)
        elif info.subresource == "scale":  # a Scale has no lists: a strategic merge patch is a merge patch
            new = merge_patch(current, body)
        else:
            new = strategic_merge_patch(current, body, rt.key)
        if not isinstance(new, dict):
            raise errors.bad_request("the patched object is not a JSON object")
        if info.subresource == "scale":
            return 200, self._write_scale(request, info, rt, new, dry_run)
        new.setdefault("metadata", {})
        if new["metadata"].get("resourceVersion") == live["metadata"]["resourceVersion"] or not new["metadata"].get("resourceVersion"):
            new["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        new = self._check_target(info, rt, new, for_create=False)
        updated = self.store.update(new, dry_run=dry_run, subresource=info.subresource or None,
                                    field_manager=None if info.subresource else manager)
        return 200, self._render_object(request, rt, updated, info.subresource)

    def _delete_options(self, request) -> dict:
        options = {}
        if request.body:
            options = parse_body(request)
            if not isinstance(options, dict):
                raise errors.bad_request("DeleteOptions must be a JSON object")
        return options

    def _delete(self, request, info, rt):
        options = self._delete_options(request)
        dry_run = _dry_run(request.query, options)
        propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
        if options.get("orphanDependents") is True:
            propagation = "Orphan"
        deleted = self.store.delete(rt.key, info.namespace or None, info.name, propagation=propagation, dry_run=dry_run,
                                    preconditions=options.get("preconditions"))
        if rt.key in RETURNS_DELETED_OBJECT or rt.custom or deleted["metadata"].get("deletionTimestamp"):
            return 200, self._render_object(request, rt, deleted)
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": {"name": info.name, "group": rt.group, "kind": rt.plural, "uid": deleted["metadata"].get("uid", "")}}

    def _deletecollection(self, request, info, rt):
        if "deletecollection" not in rt.verbs:
            raise errors.method_not_allowed(f"the server does not allow deleting a collection of {rt.plural}")
        options = self._delete_options(request)
        dry_run = _dry_run(request.query, options)
        propagation = request.query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
        result = self.store.list(rt.key, info.namespace or None, request.query.get("labelSelector"),
                                 request.query.get("fieldSelector"))
        deleted = []
        for obj in result.items:
            meta = obj["metadata"]
            try:
                deleted.append(self._outward(rt, self.store.delete(rt.key, meta.get("namespace"), meta["name"],
                                                                   propagation=propagation, dry_run=dry_run)))
            except errors.ApiError as exc:
                if exc.code != 404:  # already gone (a cascade took it): not an error for a collection delete
                    raise
        return 200, {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": {"resourceVersion": self.store.resource_version},
                     "items": deleted}
