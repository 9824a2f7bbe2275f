"""Kubernetes API errors and the ``Status`` bodies the real API server sends for them."""

from __future__ import annotations


class ApiError(Exception):
    """An API failure carried as a Kubernetes ``Status`` (code, reason, message, details)."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = dict(details or {})

    def status(self) -> dict:
        """Return the ``Status`` body the API server sends for this error (empty fields omitted, as in Go)."""
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        details = {k: v for k, v in self.details.items() if v not in (None, "", [])}
        if details:
            body["details"] = details
        body["code"] = self.code
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def _qualified(plural: str, group: str) -> str:
    """``pods`` for the core group, ``deployments.apps`` otherwise (the real server's GroupResource)."""
    return f"{plural}.{group}" if group else plural


def _resource_of(resource_type) -> tuple[str, str]:
    """Accept a ``ResourceType`` or a plain plural (core group) and return (plural, group)."""
    if isinstance(resource_type, str):
        return resource_type, ""
    return resource_type.plural, resource_type.group


def not_found(resource_type, name: str) -> ApiError:
    """404 NotFound: ``pods "x" not found`` / ``deployments.apps "x" not found``."""
    plural, group = _resource_of(resource_type)
    return ApiError(404, "NotFound", f'{_qualified(plural, group)} "{name}" not found',
                    {"name": name, "group": group, "kind": plural})


def namespace_not_found(namespace: str) -> ApiError:
    """404 NotFound for a missing namespace: ``namespaces "x" not found``."""
    return not_found("namespaces", namespace)


def already_exists(resource_type, name: str) -> ApiError:
    """409 AlreadyExists: ``pods "x" already exists``."""
    plural, group = _resource_of(resource_type)
    return ApiError(409, "AlreadyExists", f'{_qualified(plural, group)} "{name}" already exists',
                    {"name": name, "group": group, "kind": plural})


def conflict(resource_type, name: str, reason_text: str | None = None) -> ApiError:
    """409 Conflict for a stale resourceVersion (or ``reason_text`` for another conflict)."""
    plural, group = _resource_of(resource_type)
    text = reason_text or "the object has been modified; please apply your changes to the latest version and try again"
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": {text}',
                    {"name": name, "group": group, "kind": plural})


def invalid_cause(field: str, value, detail: str, reason: str = "FieldValueInvalid") -> dict:
    """One ``causes`` entry of an Invalid error, with the message the real server writes."""
    if reason == "FieldValueRequired":
        message = f"Required value: {detail}" if detail else "Required value"
    elif reason == "FieldValueForbidden":
        message = f"Forbidden: {detail}"
    elif reason == "FieldValueNotSupported":
        message = f"Unsupported value: {_go_quote(value)}: {detail}"
    else:
        message = f"Invalid value: {_go_quote(value)}: {detail}"
    return {"reason": reason, "message": message, "field": field}


def _go_quote(value) -> str:
    """Render a value as Go's ``%#v``-ish form used in validation messages (strings quoted)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def invalid(resource_type, name: str, causes: list[dict]) -> ApiError:
    """422 Invalid: ``Deployment.apps "x" is invalid: metadata.name: Invalid value: ...``.

    ``resource_type`` is a ``ResourceType`` (its kind and group name the object) or a kind string
    (core group); ``causes`` are ``invalid_cause`` dicts.
    """
    if isinstance(resource_type, str):
        kind, group = resource_type, ""
    else:
        kind, group = resource_type.kind, resource_type.group
    qualified = f"{kind}.{group}" if group else kind
    parts = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    if len(parts) == 1:
        summary = parts[0]
    else:
        summary = "[" + ", ".join(parts) + "]"
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {summary}',
                    {"name": name, "group": group, "kind": kind, "causes": list(causes)})


def forbidden(resource_type, name: str, message: str) -> ApiError:
    """403 Forbidden: ``pods "x" is forbidden: <message>`` (or ``pods is forbidden: ...`` without a name)."""
    plural, group = _resource_of(resource_type)
    subject = f'{_qualified(plural, group)} "{name}"' if name else _qualified(plural, group)
    return ApiError(403, "Forbidden", f"{subject} is forbidden: {message}", {"name": name, "group": group, "kind": plural})


def unauthorized(message: str = "Unauthorized") -> ApiError:
    """401 Unauthorized (missing or wrong bearer token)."""
    return ApiError(401, "Unauthorized", message)


def bad_request(message: str) -> ApiError:
    """400 BadRequest with the given message."""
    return ApiError(400, "BadRequest", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    """405 MethodNotAllowed."""
    return ApiError(405, "MethodNotAllowed", message)


def gone(message: str) -> ApiError:
    """410 Expired (watch or continue token too old), as the real server words it."""
    return ApiError(410, "Expired", message)


def unsupported_media_type(content_type: str) -> ApiError:
    """415 UnsupportedMediaType for a PATCH or body content type the server does not accept."""
    return ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: "
                    f"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type})")


def too_many_requests(message: str = "Too many requests, please try again later.", retry_after_seconds: int = 1) -> ApiError:
    """429 TooManyRequests with ``retryAfterSeconds`` in the details."""
    return ApiError(429, "TooManyRequests", message, {"retryAfterSeconds": retry_after_seconds})


def internal_error(message: str) -> ApiError:
    """500 InternalError: ``Internal error occurred: <message>``."""
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def service_unavailable(message: str = "the server is currently unable to handle the request") -> ApiError:
    """503 ServiceUnavailable."""
    return ApiError(503, "ServiceUnavailable", message)
