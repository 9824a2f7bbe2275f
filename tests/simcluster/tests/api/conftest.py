"""Helpers for the API tests: raw HTTPS requests to the simulated cluster (for what the typed client hides)."""
from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse

import pytest


class RawClient:
    """Sends one HTTPS request to the simulated cluster and returns ``(status, headers, decoded JSON or text)``."""

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.context = ssl.create_default_context(cadata=cluster.ca_pem.decode("ascii"))

    def connection(self) -> http.client.HTTPSConnection:
        """A new connection to the cluster."""
        parts = urllib.parse.urlsplit(self.cluster.url)
        return http.client.HTTPSConnection(parts.hostname, parts.port, context=self.context, timeout=10)

    def __call__(self, method: str, path: str, body=None, *, token: str | None = "default", headers: dict | None = None):
        sent = dict(headers or {})
        if token == "default":
            token = self.cluster.token
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        text = payload.decode("utf-8")
        try:
            document = json.loads(text)
        except ValueError:
            document = text
        return response.status, dict(response.getheaders()), document


@pytest.fixture
def raw(sim) -> RawClient:
    """Raw HTTPS access to the freshly reset simulated cluster."""
    return RawClient(sim)
