"""The request log: one record per API request the simulated server answered (or refused, or dropped)."""
from __future__ import annotations

import dataclasses
import threading

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
# Created to be answered, never stored: access reviews and TokenRequests (resource key, subresource)
ANSWERED_NOT_STORED = frozenset({("authorization.k8s.io/selfsubjectaccessreviews", ""),
                                 ("authorization.k8s.io/subjectaccessreviews", ""), ("serviceaccounts", "token")})


def _may_write(verb: str, resource: str, subresource: str) -> bool:
    return verb in WRITE_VERBS and (resource, subresource) not in ANSWERED_NOT_STORED


def is_write(record: dict) -> bool:
    """Whether a request record (as ``/_sim/requests`` serves it, on either test cluster) may change state."""
    return _may_write(record["verb"], record["resource"], record["subresource"])


def persisted(record) -> bool:
    """Whether a request record (a ``RequestRecord`` or its dict) changed state: a write that was not a dry run and
    succeeded (status below 400)."""
    field = record.get if isinstance(record, dict) else lambda name: getattr(record, name)
    return (_may_write(field("verb"), field("resource"), field("subresource")) and not field("dry_run")
            and 0 < field("status") < 400)


@dataclasses.dataclass
class RequestRecord:  # pylint: disable=too-many-instance-attributes
    """One request: what was asked, of which resource, and how it was answered.

    ``query`` maps each query parameter to its (last) value. ``verb`` is the Kubernetes verb (get, list,
    watch, create, update, patch, delete, deletecollection) or ``""`` for discovery and other non-resource
    paths. ``resource`` is the resource key (``"pods"``, ``"apps/deployments"``). ``fault`` names the fault
    rule that answered instead of the API (``"status 429"``, ``"drop"``, ``"latency 0.2"``), if any. ``user`` is the
    user the request acted as (after impersonation), ``""`` when it was not authenticated.
    """

    time: float
    method: str
    path: str
    query: dict
    status: int = 0
    dry_run: bool = False
    verb: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    user_agent: str = ""
    fault: str = ""
    user: str = ""

    @property
    def is_write(self) -> bool:
        """True when the verb may change state (create, update, patch, delete, deletecollection); access reviews
        and TokenRequests are created but change nothing."""
        return _may_write(self.verb, self.resource, self.subresource)

    def to_dict(self) -> dict:
        """Return the record as a plain dict (as served by ``GET /_sim/requests``)."""
        return dataclasses.asdict(self)


class RequestLog:
    """A thread-safe, append-only (until cleared) list of :class:`RequestRecord`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        """Add one record."""
        with self._lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        """Return a copy of the records, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def writes(self, persisting_only: bool = True) -> list[RequestRecord]:
        """Return the write requests; with ``persisting_only`` only those that changed state.

        A request changed state when its verb is a write verb, it was not a dry run, and it succeeded
        (status below 400).
        """
        if persisting_only:
            return [record for record in self.records() if persisted(record)]
        return [record for record in self.records() if record.is_write]
