# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readable errors for Kubernetes API failures: what failed, where, and what to do next.

Every failure is a :class:`MeshError`, raised where it is found and turned into ``fail_json`` once, by
``MeshModule.run`` (module.py).
Messages use the API's own Status message and details; secrets (tokens, keys) never appear in them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

RETRYABLE_STATUSES = frozenset((429, 500, 502, 503, 504))


class MeshError(Exception):
    """A failure with a readable message ``msg`` and structured ``details`` (the result's ``error``).

    ``result`` holds what the module returns beside ``msg`` when it fails with data (the pods a gate refused, the
    rollouts that failed): it goes to the top level of the result, as on success.
    """

    def __init__(self, msg: str, result: dict | None = None, **details) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = dict(result or {})
        self.details = details


class KubeConfigError(MeshError):
    """The connection options do not describe a usable connection (kubeconfig missing, bad context, ...)."""


class KubeConnectionError(MeshError):
    """The API server could not be reached (refused, DNS, TLS, timeout, proxy)."""

    def __init__(self, msg: str, host: str, reason: str, connected: bool, transient: bool = True) -> None:
        super().__init__(msg, host=host, reason=reason)
        self.host = host
        self.reason = reason
        # False when the request certainly never reached the server (safe to send again).
        self.connected = connected
        # False when sending again cannot help (a certificate that does not verify).
        self.transient = transient


class KubeApiError(MeshError):
    """The API server answered with an error Status."""

    def __init__(self, msg: str, status: int, reason: str, request: RequestInfo, body: dict | None,
                 retry_after: float | None = None) -> None:
        super().__init__(msg, status=status, reason=reason, verb=request.verb, resource=request.resource,
                         namespace=request.namespace, name=request.name, api_status=body)
        self.status = status
        self.reason = reason
        self.request = request
        self.body = body
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """True for the statuses a retry may cure (429, 500, 502, 503, 504)."""
        return self.status in RETRYABLE_STATUSES


@dataclass(frozen=True)
class RequestInfo:
    """What a request was about, read from its method and path."""

    method: str
    path: str
    host: str
    verb: str
    group: str
    resource: str
    namespace: str | None
    name: str | None
    subresource: str | None

    @property
    def qualified_resource(self) -> str:
        """``pods`` for the core group, ``deployments.apps`` otherwise (as kubectl spells them)."""
        return "%s.%s" % (self.resource, self.group) if self.group else self.resource

    def describe(self) -> str:
        """E.g. ``deployments.apps "istiod" in namespace istio-system`` or ``namespaces (cluster-wide)``."""
        what = self.qualified_resource
        if self.subresource:
            what += "/" + self.subresource
        if self.name:
            what += ' "%s"' % self.name
        if self.namespace:
            what += " in namespace %s" % self.namespace
        elif not self.name:
            what += " (cluster-wide)"
        return what


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def describe_request(method: str, path: str, host: str = "") -> RequestInfo:
    """Read the verb, group, resource, namespace, name and subresource from an API path."""
    method = method.upper()
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    group = ""
    if segments[:1] == ["api"]:
        rest = segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, rest = segments[1], segments[3:]
    else:
        rest = segments
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] if rest else path
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if method == "GET":
        verb = "get" if name else "list"
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = _VERBS.get(method, method.lower())
    return RequestInfo(method, path, host, verb, group, resource, namespace, name, subresource)


def parse_status_body(body) -> dict | None:
    """The Kubernetes Status object in a response body (bytes, str or dict); None if the body is not one."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    return body if isinstance(body, dict) else None


def api_error(status: int, reason: str, body, request: RequestInfo, headers=None) -> KubeApiError:
    """Build the :class:`KubeApiError` for an error response, with a message per status code."""
    parsed = parse_status_body(body)
    text = (parsed or {}).get("message") or _raw_text(body) or reason or "no message"
    what = request.describe()
    where = request.host or "the API server"
    if status == 401:
        msg = "authentication failed at %s: check the token or client certificate (HTTP 401 %s)" % (where, reason or "Unauthorized")
    elif status == 403:
        msg = ("forbidden: cannot %s %s at %s: %s. Grant this permission to the identity in use (RBAC: the collection's "
               "rules are applied by playbooks/rbac.yml, see docs/rbac.md) or connect as another user"
               % (request.verb, what, where, text))
    elif status == 404:
        msg = "not found: %s at %s: %s" % (what, where, text)
    elif status == 409:
        msg = ("conflict: cannot %s %s: %s. The object was changed by someone else or already exists; read it "
               "again and retry" % (request.verb, what, text))
    elif status == 422:
        msg = "invalid: cannot %s %s: %s" % (request.verb, what, text)
        causes = _causes(parsed)
        if causes:
            msg += " (causes: %s)" % "; ".join(causes)
    elif status in RETRYABLE_STATUSES:
        msg = ("the Kubernetes API at %s answered HTTP %d %s to %s %s: %s. The server is overloaded or unwell; "
               "try again later" % (where, status, reason, request.verb, what, text))
    else:
        msg = "HTTP %d %s from %s for %s %s: %s" % (status, reason, where, request.verb, what, text)
    return KubeApiError(msg, status, reason, request, parsed, _retry_after(headers))


def connection_error(exc: Exception, host: str) -> KubeConnectionError:
    """Convert a urllib3/socket failure into a :class:`KubeConnectionError` naming the host and the reason."""
    cause = getattr(exc, "reason", None) if type(exc).__name__ == "MaxRetryError" else exc
    cause = cause or exc
    name = type(cause).__name__
    transient = True
    if name == "NameResolutionError" or "Name or service not known" in str(cause) or "nodename nor servname" in str(cause):
        reason, connected = "the host name does not resolve (DNS)", False
    elif name in ("SSLError", "SSLCertVerificationError") or "CERTIFICATE_VERIFY_FAILED" in str(cause):
        reason, connected = "TLS failed: %s. Check ca_cert (or the kubeconfig's certificate-authority) and the host name" % _short(cause), False
        transient = False
    elif name == "ProxyError":
        reason, connected = "the proxy failed: %s" % _short(cause), False
    elif name == "ConnectTimeoutError":
        reason, connected = "the connection timed out", False
    elif name == "NewConnectionError" or isinstance(cause, ConnectionRefusedError):
        reason, connected = "connection refused or failed: %s" % _short(cause), False
    elif name == "ReadTimeoutError":
        reason, connected = "no answer in time (read timeout)", True
    else:
        reason, connected = "%s: %s" % (name, _short(cause)), True
    return KubeConnectionError("cannot reach the Kubernetes API at %s: %s" % (host, reason), host, reason, connected, transient)


def _raw_text(body, limit: int = 300) -> str:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    text = body.strip() if isinstance(body, str) else ""
    return text if len(text) <= limit else text[:limit] + "..."


def _short(exc) -> str:
    text = str(exc)
    # urllib3 prefixes messages with the connection object's repr; keep the readable part.
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    return text.strip()


def _causes(status: dict | None) -> list[str]:
    causes = ((status or {}).get("details") or {}).get("causes") or []
    return ["%s: %s" % (c.get("field", "?"), c.get("message", c.get("reason", ""))) for c in causes]


def _retry_after(headers) -> float | None:
    if not headers:
        return None
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None
