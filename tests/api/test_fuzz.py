"""Property-based fuzzing of every documented operation with schemathesis, in process (ASGI).

SQLite only, a bounded, derandomized number of examples per operation: no 5xx anywhere, and
every response matches the documented status codes, content types and body schemas.
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import create_app
from service.store import db
from tests.conftest import make_settings


def _migrated_sqlite() -> str:
    """A temporary migrated database, made at import: schemathesis parametrizes at collection."""
    folder = tempfile.mkdtemp(prefix="factcheck-fuzz-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    url = f"sqlite+aiosqlite:///{Path(folder) / 'fuzz.db'}"

    async def migrate() -> None:
        engine = db.create_engine(url)
        await db.migrate(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return url


schema = schemathesis.openapi.from_asgi(
    "/schema/openapi.json",
    create_app(make_settings(database_url=_migrated_sqlite(), rate_limit_per_minute=0)),
)


RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_responses_match_the_schema(case) -> None:
    # Only the response side: whether the service rejects every schema-invalid request (a
    # number where a date-time string is documented, pydantic's lax mode takes epochs) is
    # another question than whether it answers what it documents.
    case.call_and_validate(checks=RESPONSE_CHECKS)
