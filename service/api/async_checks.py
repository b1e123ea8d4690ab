"""HTTP around asynchronous checks: the Prefer header (RFC 7240), the Idempotency-Key header,
and the 202 answer that points at the check."""

from __future__ import annotations

from typing import Annotated

from litestar import Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from service.jobs.submit import Submitted
from service.models import CheckReport

RESPOND_ASYNC = "respond-async"

PreferHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Prefer",
        description="`respond-async`: answer 202 at once and check in the background.",
    ),
]
IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,255}$",
        description="Any unique string (a UUID): a retried POST with the same key and body "
        "returns the first check instead of running another.",
    ),
]
ACCEPTED = {
    202: ResponseSpec(
        CheckReport,
        description="Queued (Prefer: respond-async or a callback_url): the body shows the "
        "check's status and `Location` where to follow it.",
    )
}


def prefers_async(prefer: str | None) -> bool:
    """Whether a Prefer header (`respond-async, wait=10`; `handling=lenient; respond-async`)
    asks for an asynchronous answer."""
    if not prefer:
        return False
    for preference in prefer.replace(";", ",").split(","):
        if preference.split("=")[0].strip().lower() == RESPOND_ASYNC:
            return True
    return False


def submitted_response(submitted: Submitted, prefer: str | None) -> Response[CheckReport]:
    report = submitted.report
    if not submitted.accepted:
        return Response(report, status_code=200)
    headers = {"Location": f"/v1/checks/{report.id}"}
    if prefers_async(prefer):
        headers["Preference-Applied"] = RESPOND_ASYNC
    return Response(report, status_code=202, headers=headers)
