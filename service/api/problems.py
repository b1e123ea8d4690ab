"""The one mapping from errors to RFC 9457 problem+json responses."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter
from pydantic import BaseModel, ConfigDict

from service.errors import FactcheckError

log = logging.getLogger("service.api")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:factcheck:problem:"


# An id path parameter the databases can hold: a larger one overflowed the driver (a 500).
RowId = Annotated[int, PathParameter(ge=-(2**63), le=2**63 - 1)]


class Problem(BaseModel):
    """An RFC 9457 problem; some carry more members (errors, retry_after)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI `responses=` documenting these error statuses as problem+json."""
    return {
        status: ResponseSpec(
            Problem,
            description=HTTPStatus(status).phrase,
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }


def problem(
    status: int, detail: str, slug: str | None = None, title: str | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    phrase = HTTPStatus(status).phrase
    body = {
        "type": f"{TYPE_PREFIX}{slug}" if slug else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error(_: Request, exc: FactcheckError) -> Response[dict[str, Any]]:
    if exc.status >= 500:
        log.warning("request failed: %s: %s", type(exc).__name__, exc.detail)
    return problem(exc.status, exc.detail, exc.slug, exc.title, **exc.extra)


def validation_error(request: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    # Query, path and header errors say where they come from; body (model) errors do not.
    in_body = any(isinstance(e, dict) and e.get("source", "body") == "body" for e in errors)
    if in_body:
        return problem(422, _describe(errors), "invalid-input", "Invalid input", errors=errors)
    return problem(400, _describe(errors) or str(exc.detail), "bad-request", errors=errors)


def http_error(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else ""
    response = problem(exc.status_code, detail or _default_detail(exc.status_code))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def unexpected_error(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "the service failed to handle this request; it has been logged")


def _describe(errors: list[Any]) -> str:
    parts = []
    for error in errors:
        if isinstance(error, dict):
            key = error.get("key")
            parts.append(f"{key}: {error.get('message')}" if key else str(error.get("message")))
    return "; ".join(parts)


def _default_detail(status: int) -> str:
    return {
        404: "no such resource",
        405: "method not allowed on this resource",
        413: "request body too large",
    }.get(status, HTTPStatus(status).description)


HANDLERS = {
    FactcheckError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
