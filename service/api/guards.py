"""Checks before a JSON body is parsed, so each kind of bad input gets its own status."""

from __future__ import annotations

import json

from litestar import Request
from litestar.exceptions import ClientException, HTTPException


async def require_json_body(request: Request) -> None:
    """415 for a non-JSON content type, 400 for a body that is not JSON at all.

    The size limit (413) is enforced by Litestar's request_max_body_size while reading; what
    passes here is then validated against the pydantic model (422).
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(
            status_code=415,
            detail=f"send the body as application/json (got {media_type or 'no content type'})",
        )
    body = await request.body()
    try:
        json.loads(body)
    except RecursionError:
        raise ClientException("JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ClientException(f"malformed JSON: {exc}") from None
