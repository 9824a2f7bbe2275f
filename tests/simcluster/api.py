"""Request routing for the simulated API server: turns one HTTP request into a response.

``ApiRouter.describe`` reads a request's path and query into a :class:`RequestInfo` (verb, resource,
namespace, name) without touching state, so the server can log it and match fault rules first;
``ApiRouter.handle`` answers it: discovery, OpenAPI, the verbs on resources (``api_verbs``), and watch
streams (``api_watch``). Nothing here knows about sockets.
"""
from __future__ import annotations

import dataclasses

from . import api_discovery, api_openapi, errors
from .api_http import Request, Response
from .api_verbs import ResourceVerbs
from .resources import ResourceType

_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclasses.dataclass
class RequestInfo:  # pylint: disable=too-many-instance-attributes
    """What a request addresses: ``kind`` is ``"resource"``, ``"discovery"``, ``"openapi"``, ``"health"`` or ``""``."""

    kind: str = ""
    verb: str = ""
    group: str = ""
    version: str = ""
    plural: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    resource_type: ResourceType | None = None
    segments: tuple[str, ...] = ()

    @property
    def resource_key(self) -> str:
        """The resource key (``"pods"``, ``"apps/deployments"``) or ``""``."""
        if self.resource_type is not None:
            return self.resource_type.key
        if not self.plural:
            return ""
        return f"{self.group}/{self.plural}" if self.group else self.plural


def _is_watch(query: dict) -> bool:
    return str(query.get("watch", "")).lower() in ("true", "1")


def _verb(method: str, info: RequestInfo, query: dict, legacy_watch: bool) -> str:
    if method in ("GET", "HEAD"):
        if legacy_watch or (_is_watch(query) and not info.subresource):
            return "watch"
        return "get" if info.name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if info.name else "deletecollection"
    return method.lower()


class ApiRouter:
    """Routes requests to discovery, OpenAPI and resource verbs over one ``Store``."""

    def __init__(self, store, settings) -> None:
        self.store = store
        self.settings = settings
        self.verbs = ResourceVerbs(store)

    # ----------------------------------------------------------------------------------------- parsing

    def describe(self, method: str, path: str, query: dict) -> RequestInfo:
        """Read what a request addresses; never raises."""
        segments = tuple(s for s in path.strip("/").split("/") if s)
        info = RequestInfo(segments=segments)
        if not segments:
            info.kind = "discovery"
            return info
        head = segments[0]
        if head in ("healthz", "readyz", "livez"):
            info.kind = "health"
        elif head == "version" and len(segments) == 1:
            info.kind = "discovery"
        elif head == "openapi":
            info.kind = "openapi"
        elif head == "api" and len(segments) <= 2 or head == "apis" and len(segments) <= 3:
            info.kind = "discovery"
        elif head == "api":
            self._describe_resource(info, "", segments[1], segments[2:], method, query)
        elif head == "apis":
            self._describe_resource(info, segments[1], segments[2], segments[3:], method, query)
        return info

    def _describe_resource(self, info: RequestInfo, group: str, version: str, rest: tuple, method: str, query: dict) -> None:
        info.kind, info.group, info.version = "resource", group, version
        legacy_watch = bool(rest) and rest[0] == "watch"
        if legacy_watch:
            rest = rest[1:]
        if rest and rest[0] == "namespaces" and len(rest) >= 3 and not (
                group == "" and len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES):
            info.namespace, rest = rest[1], rest[2:]
        if rest:
            info.plural = rest[0]
        if len(rest) >= 2:
            info.name = rest[1]
        if len(rest) >= 3:
            info.subresource = rest[2]
        if len(rest) > 3:
            info.kind = ""
        info.resource_type = self.store.registry.get(group, version, info.plural) if info.plural else None
        info.verb = _verb(method, info, query, legacy_watch)

    # ----------------------------------------------------------------------------------------- answering

    def handle(self, request: Request, info: RequestInfo) -> Response:
        """Answer a request; an ``ApiError`` becomes its ``Status`` response."""
        try:
            if info.kind == "health":
                return Response(200, b"ok", content_type="text/plain; charset=utf-8")
            if info.kind == "discovery":
                return self._discovery(request, info)
            if info.kind == "openapi":
                return self._openapi(request, info)
            if info.kind == "resource":
                return self.verbs.handle(request, info)
            raise self._not_found(request)
        except errors.ApiError as exc:
            return Response.error(exc)

    @staticmethod
    def _not_found(request: Request) -> errors.ApiError:
        return errors.ApiError(404, "NotFound", f"the server could not find the requested resource ({request.method} {request.path})",
                               {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})

    def _discovery(self, request: Request, info: RequestInfo) -> Response:
        if request.method != "GET":
            raise errors.method_not_allowed()
        segments, registry = info.segments, self.store.registry
        document = None
        if not segments:
            document = {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3", "/readyz", "/version"]}
        elif segments == ("version",):
            document = api_discovery.version_info(self.settings.server_version)
        elif segments == ("api",):
            document = api_discovery.api_versions(request.header("host", "127.0.0.1"))
        elif segments == ("apis",):
            document = api_discovery.api_group_list(registry)
        elif segments[0] == "api" and len(segments) == 2:
            document = api_discovery.resource_list(registry, "", segments[1])
        elif len(segments) == 2:
            document = api_discovery.api_group(registry, segments[1])
        elif len(segments) == 3:
            document = api_discovery.resource_list(registry, segments[1], segments[2])
        if document is None:
            raise self._not_found(request)
        return Response.json(200, document, pretty=request.query.get("pretty") == "true")

    def _openapi(self, request: Request, info: RequestInfo) -> Response:
        segments, registry, version = info.segments, self.store.registry, self.settings.server_version
        document = None
        if segments == ("openapi", "v3"):
            document = api_openapi.root_document(registry, version)
        elif len(segments) == 4 and segments[1:3] == ("v3", "api"):
            document = api_openapi.group_version_document(registry, "", segments[3], version)
        elif len(segments) == 5 and segments[1:3] == ("v3", "apis"):
            document = api_openapi.group_version_document(registry, segments[3], segments[4], version)
        if document is None:
            raise self._not_found(request)
        return Response.json(200, document)
