"""Pure parts of asynchronous checks: the signature, the Prefer header, the backoff."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest

from service.api.async_checks import prefers_async
from service.jobs.webhooks import sign, signed_headers
from service.jobs.worker import BACKOFF_CAP, backoff


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = '{"id": 7, "status": "done", "claims": ["Київ"]}'.encode()
    expected = hmac.new(b"secret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("secret", 1700000000, body) == expected
    headers = signed_headers("secret", 7, body, 1700000000)
    assert headers["X-Factcheck-Signature"] == f"v1={expected}"
    assert (headers["X-Factcheck-Timestamp"], headers["X-Factcheck-Check-Id"]) == (
        "1700000000",
        "7",
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("respond-async", True),
        ("Respond-Async", True),
        ("respond-async, wait=10", True),
        ("wait=10, respond-async", True),
        ("return=minimal; respond-async", True),
        ("wait=10", False),
        ("respond-asynchronously", False),
        ("", False),
        (None, False),
    ],
)
def test_prefer_header(header: str | None, expected: bool) -> None:
    assert prefers_async(header) is expected


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(30) == timedelta(seconds=BACKOFF_CAP)
