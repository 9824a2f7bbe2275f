"""HTTPS serving for the simulated API server: bearer-token auth, request log, fault injection, watch
streaming (chunked), and the instrument endpoints under ``/_sim/`` (requests, faults, dump, settle, load).

``/healthz``, ``/readyz`` and ``/livez`` answer without a token, as a real server allows anonymous health
checks; everything else needs ``Authorization: Bearer <token>`` and is authorized with RBAC (``access.py``:
impersonation, Roles and bindings, the 403 the real server sends). Calls to ``/_sim/*`` need the admin token, are
not logged and never faulted: they are the test's instruments, not API traffic.
"""
from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml

from . import errors
from .access import ADMIN
from .api import ApiRouter
from .api_http import Request, Response
from .requestlog import RequestRecord

LOG = logging.getLogger(__name__)
_ANONYMOUS_KINDS = ("health",)
_QUIET_ERRORS = (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError, OSError)


class _Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive; every method goes through ``_serve``."""

    protocol_version = "HTTP/1.1"
    server_version = "simcluster"
    sys_version = ""
    timeout = 300

    def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
        """Silence the default access log (the request log records every request)."""

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        """Serve GET."""
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # ----------------------------------------------------------------------------------------- request

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        sim = self.server.sim
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        body = self._read_body()
        headers = {key.lower(): value for key, value in self.headers.items()}
        request = Request(self.command, parts.path or "/", query, headers, body)
        identity = sim.access.authenticate(headers)
        if parts.path.startswith("/_sim/") or parts.path == "/_sim":
            self._send(self._instrument(request) if identity == ADMIN else self._unauthorized())
            return
        info = sim.router.describe(request.method, request.path, query)
        record = RequestRecord(time=time.time(), method=request.method, path=request.path, query=query,
                               dry_run=query.get("dryRun") == "All", verb=info.verb, resource=info.resource_key,
                               subresource=info.subresource, namespace=info.namespace, name=info.name,
                               user_agent=headers.get("user-agent", ""))
        user = None
        if info.kind not in _ANONYMOUS_KINDS:
            if identity is None:
                self._finish(record, self._unauthorized())
                return
            try:
                user = sim.access.impersonate(identity, headers)
                record.user = user.name
                sim.access.check(user, info, request)
            except errors.ApiError as exc:
                self._finish(record, Response.error(exc))
                return
        if request.method == "DELETE" and body:
            record.dry_run = record.dry_run or _body_dry_run(body)
        fired = sim.faults.fire(request.method, request.path, info.verb, record.dry_run)
        if fired:
            record.fault = ", ".join(rule.describe() for rule in fired)
            delay = sum(rule.latency for rule in fired)
            if delay:
                time.sleep(delay)
            if any(rule.drop for rule in fired):
                sim.log.append(record)
                self._drop()
                return
            failing = next((rule for rule in fired if rule.status is not None), None)
            if failing is not None:
                response = Response.json(failing.status, failing.status_body())
                if failing.status == 429:
                    response.headers["Retry-After"] = str(failing.retry_after)
                self._finish(record, response)
                return
        try:
            response = (sim.access.handle(user, info, request) if user is not None else None) or sim.router.handle(request, info)
        except errors.ApiError as exc:
            response = Response.error(exc)
        except Exception as exc:  # pylint: disable=broad-except
            sys.stderr.write(f"simcluster: internal error on {request.method} {self.path}\n{traceback.format_exc()}")
            response = Response.error(errors.internal_error(f"{type(exc).__name__}: {exc}"))
        record.name = info.name
        self._finish(record, response)

    @staticmethod
    def _unauthorized() -> Response:
        return Response.error(errors.unauthorized())

    # ----------------------------------------------------------------------------------------- /_sim

    def _instrument(self, request: Request) -> Response:
        sim = self.server.sim
        route = (request.method, request.path.rstrip("/"))
        try:
            if route == ("GET", "/_sim/requests"):
                return Response.json(200, [record.to_dict() for record in sim.log.records()])
            if route == ("DELETE", "/_sim/requests"):
                sim.log.clear()
                return Response.json(200, {"cleared": True})
            if route == ("GET", "/_sim/faults"):
                return Response.json(200, [rule.to_dict() for rule in sim.faults.rules()])
            if route == ("POST", "/_sim/faults"):
                document = json.loads(request.body or b"{}")
                rules = [sim.faults.add(**fields) for fields in (document if isinstance(document, list) else [document])]
                return Response.json(201, [rule.to_dict() for rule in rules])
            if route == ("DELETE", "/_sim/faults"):
                sim.faults.clear()
                return Response.json(200, {"cleared": True})
            if route == ("GET", "/_sim/dump"):
                return Response.json(200, sim.dump())
            if route == ("POST", "/_sim/settle"):
                document = json.loads(request.body or b"{}")
                return Response.json(200, {"settled": bool(sim.settle(timeout=float(document.get("timeout", 10))))})
            if route == ("POST", "/_sim/load"):
                documents = [doc for doc in yaml.safe_load_all(request.body.decode("utf-8")) if doc]
                return Response.json(200, {"loaded": sim.load(documents)})
        except (ValueError, TypeError, yaml.YAMLError) as exc:
            return Response.error(errors.bad_request(f"{request.method} {request.path}: {exc}"))
        except errors.ApiError as exc:
            return Response.error(exc)
        return Response.error(errors.ApiError(404, "NotFound", f"no instrument endpoint {request.method} {request.path}; "
                                              "known: /_sim/requests, /_sim/faults, /_sim/dump, /_sim/settle, /_sim/load"))

    # ----------------------------------------------------------------------------------------- response

    def _finish(self, record: RequestRecord, response: Response) -> None:
        record.status = response.status
        self.server.sim.log.append(record)
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is not None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._stream(response.stream)
            return
        self.send_header("Content-Length", str(len(response.body)))
        # Headers and body in one write: one TLS flight instead of a small record and then the body.
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer.clear()
        self.wfile.write(head if self.command == "HEAD" else head + response.body)

    def _stream(self, chunks) -> None:
        try:
            for chunk in chunks:
                if self.server.stopping.is_set() or (chunk is None and self._client_gone()):
                    self.close_connection = True
                    return
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except _QUIET_ERRORS:
            self.close_connection = True
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def _client_gone(self) -> bool:
        """During a watch the client sends nothing: a readable socket means it closed (or broke) the connection."""
        try:
            readable = select.select([self.connection], [], [], 0)[0]
        except (OSError, ValueError):
            return True
        return bool(readable)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _body_dry_run(body: bytes) -> bool:
    """A DeleteOptions body may ask for a dry run too."""
    try:
        document = json.loads(body)
    except ValueError:
        return False
    return isinstance(document, dict) and "All" in (document.get("dryRun") or ())


class _HttpsServer(ThreadingHTTPServer):
    """A threading HTTP server whose connections are TLS, with the handshake done in the connection's thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, context: ssl.SSLContext, sim) -> None:
        super().__init__(address, _Handler)
        self.context = context
        self.sim = sim
        self.stopping = threading.Event()
        self._connections: set = set()
        self._connections_lock = threading.Lock()

    def finish_request(self, request, client_address) -> None:
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body go out as separate writes
            tls = self.context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            tls.settimeout(30)
            tls.do_handshake()
        except _QUIET_ERRORS:
            request.close()
            return
        with self._connections_lock:
            self._connections.add(tls)
        try:
            super().finish_request(tls, client_address)
        except _QUIET_ERRORS:
            pass
        finally:
            with self._connections_lock:
                self._connections.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, _QUIET_ERRORS):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut every open connection (idle keep-alive ones and watches)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ServerState:
    """What the HTTP handlers share: router, access (tokens and RBAC), request log, faults, the instrument calls."""

    def __init__(self, router: ApiRouter, access, log, faults, dump, settle, load) -> None:  # pylint: disable=too-many-arguments
        self.router = router
        self.access = access
        self.log = log
        self.faults = faults
        self.dump = dump
        self.settle = settle
        self.load = load


class SimServer:
    """The HTTPS server: ``start()`` listens on ``host:port`` (0: chosen by the OS) in a background thread."""

    def __init__(self, state: ServerState, context: ssl.SSLContext) -> None:
        self.state = state
        self.context = context
        self._httpd: _HttpsServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving and return the base URL (``https://127.0.0.1:PORT``)."""
        self._httpd = _HttpsServer((host, port), self.context, self.state)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="simcluster-https", daemon=True)
        self._thread.start()
        return f"https://{host}:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        """Stop accepting, end open watches and connections, and close the listening socket."""
        if self._httpd is None:
            return
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd, self._thread = None, None
