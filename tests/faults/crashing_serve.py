"""`factcheck serve`, killed (SIGKILL) the moment it starts writing an article's claims.

    python -m tests.faults.crashing_serve

The real command, in a process of its own: it migrates, then serves. The only addition is a
SQLAlchemy hook that, on the first `INSERT INTO claims`, kills this very process: by then
the article's row is inserted, in the same open transaction, and the claims are not. Nothing
gets to roll back or close: the database is left with what a power cut would leave.

FACTCHECK_DATABASE_URL may carry a PostgreSQL schema as tests/conftest.py writes it
(`postgresql+asyncpg://...#schema=t_abc`); it becomes the connections' search_path.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

CRASH_STATEMENT = "INSERT INTO CLAIMS"


def _crash_before_claims(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    if statement.lstrip().upper().startswith(CRASH_STATEMENT):
        sys.stderr.write("crashing_serve: SIGKILL before INSERT INTO claims\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _use_schema(url: str) -> str:
    url, schema = url.split("#schema=")

    def search_path(dbapi_connection: Any, _record: Any) -> None:
        # Outside a transaction, or the pool's rollback on return would undo the SET.
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.autocommit = False

    event.listen(Engine, "connect", search_path)
    return url


def main() -> None:
    url = os.environ["FACTCHECK_DATABASE_URL"]
    if "#schema=" in url:
        os.environ["FACTCHECK_DATABASE_URL"] = _use_schema(url)
    event.listen(Engine, "before_cursor_execute", _crash_before_claims)
    from service.cli import main as factcheck

    sys.argv = ["factcheck", "serve"]
    factcheck()


if __name__ == "__main__":
    main()
