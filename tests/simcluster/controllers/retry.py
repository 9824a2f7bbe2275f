"""The signal a controller raises to have its object reconciled again after a backoff."""

from __future__ import annotations


class RetryLater(Exception):
    """The object could not reach its desired state yet (already reported, e.g. as an Event); retry with backoff."""
