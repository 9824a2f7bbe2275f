# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin raw-JSON layer over the Kubernetes API: get, paginated list, create, replace, patch, delete.

Requests go through the ``kubernetes`` client's configured connection pool (TLS, client certificates, proxy and
token refresh come from the client's Configuration) and return plain dicts decoded with ``json``: faster than the
client's model objects on big lists, and independent of the generated API classes, which change between client
versions. Every write takes ``dry_run``: check mode sends the same request with ``dryRun=All``, so the API server
validates it (admission included) and persists nothing. Failures raise errors.MeshError subclasses.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

try:
    import urllib3
    from urllib3._collections import HTTPHeaderDict  # urllib3 1.26 and 2.x alike
except ImportError:
    pass  # urllib3 comes with kubernetes; module.py reports a missing kubernetes (client.HAS_KUBERNETES)

from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import (
    KubeApiError,
    api_error,
    connection_error,
    describe_request,
)
from ansible_collections.meshops.istio.plugins.module_utils.k8s.retry import RetryPolicy

USER_AGENT = "meshops.istio/0.1.0"
DEFAULT_PAGE_SIZE = 500
PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}
# JSON patch operations may not repeat safely (e.g. "add" to a list); the other patch types converge.
IDEMPOTENT_PATCH_TYPES = frozenset(("merge", "strategic", "apply"))


class KubeApi:
    """Raw-JSON access to one API server. ``request_count`` counts the HTTP requests sent (retries included)."""

    def __init__(self, api_client, headers: list | tuple = (), retry: RetryPolicy | None = None,
                 timeout: tuple = (10.0, 60.0)) -> None:
        self.api_client = api_client
        self.configuration = api_client.configuration
        self.host = self.configuration.host
        self.headers = list(headers)
        self.retry = retry if retry is not None else RetryPolicy()
        self.timeout = timeout
        self.request_count = 0

    # -- reads ---------------------------------------------------------------------------------------------------

    def get(self, path: str, query: dict | None = None) -> dict:
        """GET one object (or any API path) as a dict."""
        return self.request("GET", path, query=query)

    def get_or_none(self, path: str) -> dict | None:
        """GET one object; None when it does not exist (404)."""
        try:
            return self.get(path)
        except KubeApiError as error:
            if error.status == 404:
                return None
            raise

    def list_pages(self, path: str, label_selector: str | None = None, field_selector: str | None = None,
                   limit: int = DEFAULT_PAGE_SIZE):
        """Yield the pages (list dicts) of a LIST, following ``continue`` tokens.

        A 410 Gone (continue token expired) restarts the listing once from the first page, as kubectl does.
        """
        query = {"limit": limit}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        restarted = False
        token = None
        while True:
            page_query = dict(query, **({"continue": token} if token else {}))
            try:
                page = self.request("GET", path, query=page_query)
            except KubeApiError as error:
                if error.status == 410 and token and not restarted:
                    restarted, token = True, None
                    continue
                raise
            yield page
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    def list(self, path: str, label_selector: str | None = None, field_selector: str | None = None,
             limit: int = DEFAULT_PAGE_SIZE) -> list[dict]:
        """All items of a LIST as dicts, with ``kind`` and ``apiVersion`` filled in (the API server omits them)."""
        items = []
        for page in self.list_pages(path, label_selector, field_selector, limit):
            kind = (page.get("kind") or "").rsplit("List", 1)[0] or None
            api_version = page.get("apiVersion")
            for item in page.get("items") or []:
                if kind and "kind" not in item:
                    item["kind"] = kind
                if api_version and "apiVersion" not in item:
                    item["apiVersion"] = api_version
                items.append(item)
        return items

    # -- writes --------------------------------------------------------------------------------------------------

    def create(self, path: str, body: dict, dry_run: bool = False, field_manager: str | None = None) -> dict:
        """POST ``body`` to the collection ``path``; not retried after it may have reached the server."""
        return self.request("POST", path, query=_write_query(dry_run, field_manager), body=body)

    def replace(self, path: str, body: dict, dry_run: bool = False, field_manager: str | None = None) -> dict:
        """PUT ``body`` (with its metadata.resourceVersion, so a lost race fails with 409)."""
        return self.request("PUT", path, query=_write_query(dry_run, field_manager), body=body, idempotent=True)

    def patch(self, path: str, patch, patch_type: str = "merge", dry_run: bool = False,
              field_manager: str | None = None, force: bool | None = None) -> dict:
        """PATCH an object; ``patch_type`` is merge, strategic, json (a list of operations) or apply (server-side)."""
        if patch_type not in PATCH_CONTENT_TYPES:
            raise ValueError("patch_type must be one of %s, not %r" % (", ".join(PATCH_CONTENT_TYPES), patch_type))
        if patch_type == "apply" and not field_manager:
            raise ValueError("a server-side apply patch needs a field_manager")
        query = _write_query(dry_run, field_manager)
        if force is not None:
            query["force"] = "true" if force else "false"
        return self.request("PATCH", path, query=query, body=patch, content_type=PATCH_CONTENT_TYPES[patch_type],
                            idempotent=patch_type in IDEMPOTENT_PATCH_TYPES)

    def delete(self, path: str, dry_run: bool = False, propagation_policy: str | None = None,
               missing_ok: bool = False) -> dict | None:
        """DELETE an object; with ``missing_ok`` a 404 returns None instead of raising."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            body["propagationPolicy"] = propagation_policy
        try:
            return self.request("DELETE", path, query=_write_query(dry_run, None), body=body, idempotent=True)
        except KubeApiError as error:
            if missing_ok and error.status == 404:
                return None
            raise

    # -- transport -----------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, query: dict | None = None, body=None, content_type: str | None = None,
                idempotent: bool = False):
        """Send one request (retried per the RetryPolicy) and return the decoded JSON body (None when empty)."""
        url = self.host + path + ("?" + urlencode(query) if query else "")
        return self.retry.run(lambda: self._send(method, url, path, body, content_type), method, idempotent)

    def _send(self, method: str, url: str, path: str, body, content_type: str | None):
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
        headers = self._headers(content_type or "application/json" if body is not None else None)
        self.request_count += 1
        try:
            response = self.api_client.rest_client.pool_manager.request(
                method, url, body=data, headers=headers, retries=False, preload_content=True,
                timeout=urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1]))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise connection_error(exc, self.host) from exc
        if not 200 <= response.status <= 299:
            raise api_error(response.status, response.reason or "", response.data,
                            describe_request(method, path, self.host), response.headers)
        return json.loads(response.data) if response.data else None

    def _headers(self, content_type: str | None):
        headers = HTTPHeaderDict()
        for name, value in (self.api_client.default_headers or {}).items():
            headers[name] = value
        headers["User-Agent"] = USER_AGENT
        headers["Accept"] = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        for setting in self.configuration.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        for name, value in self.headers:
            headers.add(name, value)
        return headers


def _write_query(dry_run: bool, field_manager: str | None) -> dict:
    query = {}
    if dry_run:
        query["dryRun"] = "All"
    if field_manager:
        query["fieldManager"] = field_manager
    return query
