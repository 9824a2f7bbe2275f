"""The retry policy as a table: which failure of which request is sent again, and how long to wait."""

from __future__ import annotations

import pytest

from ansible_collections.meshops.istio.plugins.module_utils.k8s.errors import (
    KubeConnectionError,
    api_error,
    describe_request,
)
from ansible_collections.meshops.istio.plugins.module_utils.k8s.retry import RetryPolicy


def http_error(status, method="GET", retry_after=None):
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return api_error(status, "x", b"", describe_request(method, "/api/v1/namespaces/shop/pods"), headers)


NOT_SENT = KubeConnectionError("refused", "h", "refused", connected=False)
MAYBE_SENT = KubeConnectionError("read timeout", "h", "read timeout", connected=True)
BAD_CERTIFICATE = KubeConnectionError("TLS failed", "h", "TLS failed", connected=False, transient=False)


@pytest.mark.parametrize("error, method, idempotent, expected", [
    (http_error(429), "GET", False, True),
    (http_error(500), "GET", False, True),
    (http_error(502), "GET", False, True),
    (http_error(503), "GET", False, True),
    (http_error(504), "GET", False, True),
    (http_error(404), "GET", False, False),
    (http_error(409), "PUT", True, False),
    (http_error(403), "GET", False, False),
    (NOT_SENT, "GET", False, True),
    (MAYBE_SENT, "GET", False, True),
    (BAD_CERTIFICATE, "GET", False, False),
    # idempotent writes: replace, merge/strategic/apply patch, delete
    (http_error(503, "PUT"), "PUT", True, True),
    (http_error(500, "PATCH"), "PATCH", True, True),
    (MAYBE_SENT, "DELETE", True, True),
    # non-idempotent writes: create, JSON patch
    (http_error(429, "POST"), "POST", False, True),
    (http_error(500, "POST"), "POST", False, False),
    (http_error(503, "POST"), "POST", False, False),
    (NOT_SENT, "POST", False, True),
    (MAYBE_SENT, "POST", False, False),
    (MAYBE_SENT, "PATCH", False, False),
])
def test_should_retry(error, method, idempotent, expected):
    assert RetryPolicy().should_retry(error, method, idempotent) is expected


def test_backoff_grows_exponentially_with_equal_jitter_and_is_capped():
    low = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=lambda: 0.0)
    high = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=lambda: 1.0)
    assert [low.delay(n) for n in range(5)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert [high.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_retry_after_is_honoured_and_capped():
    policy = RetryPolicy(max_delay=5.0)
    assert policy.delay(0, retry_after=2.0) == 2.0
    assert policy.delay(3, retry_after=60.0) == 5.0


def test_run_gives_up_after_the_attempts_and_says_so():
    waits, calls = [], []

    def send():
        calls.append(1)
        raise http_error(503, retry_after=1)

    policy = RetryPolicy(attempts=3, sleep=waits.append)
    with pytest.raises(Exception) as raised:
        policy.run(send, "GET")
    assert len(calls) == 3 and waits == [1.0, 1.0]
    assert raised.value.details["attempts"] == 3
    assert raised.value.msg.endswith("(after 3 attempts)")


def test_run_does_not_repeat_a_create_after_a_server_error():
    calls = []

    def send():
        calls.append(1)
        raise http_error(500, "POST")

    with pytest.raises(Exception) as raised:
        RetryPolicy(sleep=lambda _: None).run(send, "POST")
    assert len(calls) == 1 and "after" not in raised.value.msg


def test_run_returns_once_a_retry_succeeds():
    outcomes = [http_error(429), NOT_SENT, {"kind": "PodList"}]

    def send():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert RetryPolicy(sleep=lambda _: None).run(send, "GET") == {"kind": "PodList"}
