"""Fault injection: rules that make chosen API requests fail, slow down, or lose their connection.

A rule matches a request by HTTP ``method`` (``"*"`` for any), by ``path``, a regular expression searched
(``re.search``) in the URL path without its query string (anchor it with ``^...$`` to match a whole path),
and optionally by Kubernetes ``verb`` (``"list"``, ``"watch"``, ``"patch"``, ...) and by ``dry_run`` (True: only
dry runs, False: only requests that would persist). The first ``skip`` matching requests go through untouched
(so that a rule can stand for "the third write of the record", a process killed just before it). When it matches,
it fires with ``probability`` (drawn from its own ``random.Random(seed)``, so a seed makes the sequence repeatable)
and at most ``times`` times (``None``: no limit). A firing rule waits ``latency`` seconds, then either closes the
connection without an answer (``drop``), answers ``status`` with a Kubernetes ``Status`` body (429 adds a
``Retry-After`` header), or, with neither, lets the request through (latency only).
"""
from __future__ import annotations

import dataclasses
import random
import re
import threading

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

RULE_FIELDS = ("method", "path", "verb", "status", "message", "retry_after", "probability", "seed", "latency",
               "drop", "times", "dry_run", "skip")


@dataclasses.dataclass
class FaultRule:  # pylint: disable=too-many-instance-attributes
    """One fault rule; ``fired`` counts how many requests it has hit so far."""

    method: str = "*"
    path: str = ""
    verb: str | None = None
    status: int | None = None
    message: str = ""
    retry_after: int = 1
    probability: float = 1.0
    seed: int | None = None
    latency: float = 0.0
    drop: bool = False
    times: int | None = None
    dry_run: bool | None = None
    skip: int = 0
    fired: int = 0
    seen: int = 0

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= int(self.status) <= 599:
            raise ValueError(f"fault status must be an HTTP error code 400-599, got {self.status!r}")
        if not 0.0 <= float(self.probability) <= 1.0:
            raise ValueError(f"fault probability must be between 0 and 1, got {self.probability!r}")
        if int(self.skip) < 0:
            raise ValueError(f"fault skip must not be negative, got {self.skip!r}")
        if self.status is None and not self.drop and not self.latency:
            raise ValueError("a fault rule needs a status, drop=True or a latency")
        self.method = self.method.upper()
        self._pattern = re.compile(self.path)
        self._random = random.Random(self.seed)

    def matches(self, method: str, path: str, verb: str, dry_run: bool = False) -> bool:
        """Return True when the rule applies to this request (before ``skip``, probability and ``times``)."""
        if self.method != "*" and self.method != method.upper():
            return False
        if self.verb is not None and self.verb != verb:
            return False
        if self.dry_run is not None and self.dry_run != dry_run:
            return False
        return self._pattern.search(path) is not None

    def roll(self) -> bool:
        """Draw this rule's chance once; True when it fires (always, with probability 1)."""
        return self.probability >= 1.0 or self._random.random() < self.probability

    def describe(self) -> str:
        """Return a short text naming what the rule does, for the request log."""
        if self.drop:
            return "drop"
        if self.status is not None:
            return f"status {self.status}"
        return f"latency {self.latency}"

    def status_body(self) -> dict:
        """Return the Kubernetes ``Status`` body this rule answers with."""
        reason = REASONS.get(int(self.status or 500), "InternalError")
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message or f"injected fault: {reason} (simcluster fault rule on {self.path!r})",
            "reason": reason,
            "code": int(self.status or 500),
        }
        if self.status == 429:
            body["details"] = {"retryAfterSeconds": int(self.retry_after)}
        return body

    def to_dict(self) -> dict:
        """Return the rule's fields, its ``fired`` count and how many requests it matched (``seen``)."""
        fields = {name: getattr(self, name) for name in RULE_FIELDS}
        fields["fired"] = self.fired
        fields["seen"] = self.seen
        return fields


class FaultInjector:
    """The ordered, thread-safe set of fault rules of one server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, **fields) -> FaultRule:
        """Add a rule built from ``fields`` (see :class:`FaultRule`) and return it."""
        unknown = sorted(set(fields) - set(RULE_FIELDS))
        if unknown:
            raise ValueError(f"unknown fault rule field(s) {unknown}; known fields: {list(RULE_FIELDS)}")
        rule = FaultRule(**fields)
        with self._lock:
            self._rules.append(rule)
        return rule

    def rules(self) -> list[FaultRule]:
        """Return the rules, in the order they are tried."""
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def fire(self, method: str, path: str, verb: str, dry_run: bool = False) -> list[FaultRule]:
        """Return the rules that fire for this request, counting each as fired.

        Every matching rule past its ``skip`` draws its chance once; rules whose ``times`` are used up are skipped.
        """
        fired = []
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, verb, dry_run):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if not rule.roll():
                    continue
                rule.fired += 1
                fired.append(rule)
        return fired
