# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retries with exponential backoff and jitter for Kubernetes API requests.

Policy (what is sent again, and when):

* Reads (GET, LIST): on 429, 500, 502, 503, 504 and on connection errors, except a TLS certificate that does
  not verify (sending again cannot help).
* Idempotent writes (PUT replace, merge/strategic/apply PATCH, DELETE): the same, because sending the same request
  twice leaves the same state (a replace carries its resourceVersion, so a replay that lost the race fails with
  409 instead of overwriting; a replayed delete finds the object gone).
* Non-idempotent writes (POST create, JSON PATCH): only on 429 (the server refused the request before acting on
  it) and on connection errors raised before the request reached the server (refused, DNS, TLS, connect
  timeout). A 5xx or a read timeout after a create may hide a stored object; the error is reported instead.

A 429 or 503 with ``Retry-After`` waits that long (capped at ``max_delay``); otherwise the wait is
``base_delay * 2**n`` (capped) with "equal jitter": half fixed, half random.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable

from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import KubeApiError, KubeConnectionError

READ_METHODS = frozenset(("GET", "HEAD"))


@dataclass
class RetryPolicy:
    """How often and how long to retry; ``sleep`` and ``jitter`` are replaceable for tests and benchmarks."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2 ** retry))
        return ceiling / 2 + ceiling / 2 * self.jitter()

    def should_retry(self, error: Exception, method: str, idempotent: bool) -> bool:
        """Whether ``error`` from a ``method`` request may be cured by sending the same request again."""
        safe = method.upper() in READ_METHODS or idempotent
        if isinstance(error, KubeConnectionError):
            return error.transient and (safe or not error.connected)
        if isinstance(error, KubeApiError):
            return error.status == 429 or (safe and error.retryable)
        return False

    def run(self, send: Callable[[], object], method: str, idempotent: bool = False):
        """Call ``send()`` until it succeeds, the error is not retryable, or ``attempts`` are used up.

        The last error is raised with ``details["attempts"]`` set to the number of requests made.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return send()
            except (KubeApiError, KubeConnectionError) as error:
                if attempt >= self.attempts or not self.should_retry(error, method, idempotent):
                    error.details["attempts"] = attempt
                    if attempt > 1:
                        error.msg = "%s (after %d attempts)" % (error.msg, attempt)
                        error.args = (error.msg,)
                    raise
                self.sleep(self.delay(attempt - 1, getattr(error, "retry_after", None)))
