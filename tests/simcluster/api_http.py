"""The request and response types shared by the router, the verbs and the HTTPS server."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

from . import errors

JSON = "application/json"


@dataclasses.dataclass
class Request:
    """One HTTP request as the router sees it; ``query`` maps each parameter to its last value."""

    method: str
    path: str
    query: dict
    headers: dict
    body: bytes = b""

    def header(self, name: str, default: str = "") -> str:
        """A request header (case-insensitive name)."""
        return self.headers.get(name.lower(), default)


@dataclasses.dataclass
class Response:
    """An answer: a status and a body, or (``stream``) an iterator of chunks for a watch.

    A watch stream yields ``bytes`` to send, or ``None`` now and then while idle so the server can notice a
    client that went away.
    """

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict = dataclasses.field(default_factory=dict)
    stream: Iterator[bytes | None] | None = None

    @classmethod
    def json(cls, status: int, document, pretty: bool = False) -> Response:
        """A JSON response."""
        text = json.dumps(document, indent=2 if pretty else None, separators=None if pretty else (",", ":"))
        return cls(status, (text + "\n").encode())

    @classmethod
    def json_list(cls, status: int, envelope: dict, items: list[bytes]) -> Response:
        """A JSON list response from its envelope (kind, apiVersion, metadata) and its items already encoded.

        The body is the one ``Response.json`` gives for ``{**envelope, "items": [...]}``, without encoding the
        items again.
        """
        head = json.dumps(envelope, separators=(",", ":"))[:-1].encode()  # without the closing brace
        return cls(status, b"".join((head, b',"items":[', b",".join(items), b"]}\n")))

    @classmethod
    def error(cls, exc: errors.ApiError) -> Response:
        """A ``Status`` response for an API error (429 adds ``Retry-After``)."""
        response = cls.json(exc.code, exc.status())
        retry = exc.details.get("retryAfterSeconds")
        if retry is not None:
            response.headers["Retry-After"] = str(retry)
        return response
