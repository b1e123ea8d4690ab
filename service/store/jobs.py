"""Checks as jobs: rows of `checks` that wait, are claimed under a lease, and are delivered.

    queued ──claim──▶ running ──finish_check──▶ done ─┐
      ▲                 │  └──────fail──────▶ failed ─┴─▶ delivery pending ─▶ delivered | failed
      └──retry_later────┘    (only with a callback_url)

A claim takes a lease (locked_by, locked_at); the holder renews it while it works. A running
job whose lease expired (its worker died) is due again, and so is a pending delivery whose
lease expired. PostgreSQL claims with SELECT … FOR UPDATE SKIP LOCKED, so instances never wait
on each other or take the same row; SQLite, which has one writer at a time, with a single
UPDATE … WHERE id = (SELECT …) RETURNING.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update

from service.errors import IdempotencyKeyReused, StoreUnavailable
from service.models import CheckIn, CheckReport
from service.store.tables import CheckRow

if TYPE_CHECKING:
    from service.store.sql import SqlStore


@dataclass(frozen=True)
class Job:
    """A claimed check: what to run, and which attempt this is (counting this one)."""

    id: int
    request: CheckIn
    attempts: int
    callback_url: str | None


def request_hash(request: CheckIn) -> str:
    """The same request, however its JSON was spelled, has the same hash."""
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def finish(row: CheckRow, report: CheckReport) -> None:
    """Write a finished (done or failed) report into its row; the request is no longer kept."""
    row.status = report.status
    row.article_id = report.article_id
    row.error = report.error
    row.finished_at = report.finished_at
    row.report = report.model_dump(mode="json", exclude={"delivery"})
    row.request = None
    if row.callback_url:
        # Same transaction: a check cannot end up done with its delivery forgotten. The
        # finishing worker keeps its lease and delivers; if it dies, the lease expires.
        row.delivery_status = "pending"
    else:
        row.locked_by = row.locked_at = None


def progress(row: CheckRow) -> dict[str, Any]:
    """What the row knows better than its stored report: the current state of the job."""
    delivery = None
    if row.delivery_status is not None:
        delivery = {
            "status": row.delivery_status,
            "attempts": row.delivery_attempts,
            "last_error": row.delivery_error,
            "delivered_at": row.delivered_at,
        }
    return {"id": row.id, "status": row.status, "error": row.error, "delivery": delivery}


class SqlJobs:
    """The job queue on the SQL store's database (it shares the store's engine and errors)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self._postgres = store.engine.dialect.name == "postgresql"

    async def add(
        self,
        placeholder: CheckReport,
        request: CheckIn,
        *,
        idempotency_key: str | None,
        owner: str | None,
        now: datetime,
    ) -> tuple[int, bool]:
        """A new check row: queued for the workers, or (with an owner) running under the
        owner's lease. Returns (id, created); a known idempotency key with the same request
        returns the first check's id, with another request raises IdempotencyKeyReused."""
        digest = request_hash(request)
        values = {
            "status": placeholder.status,
            "report": placeholder.model_dump(mode="json", exclude={"delivery"}),
            "created_at": placeholder.created_at,
            "request": request.model_dump(mode="json"),
            "request_hash": digest,
            "idempotency_key": idempotency_key,
            "callback_url": str(request.callback_url) if request.callback_url else None,
            "attempts": 1 if owner else 0,
            "next_attempt_at": now,
            "locked_by": owner,
            "locked_at": now if owner else None,
        }
        # The loop covers a first check deleted (its synchronous run failed) between our
        # conflicting insert and the read of it: then the key is free again.
        for _ in range(3):
            async with self.store._writing() as session:
                inserted = await session.execute(
                    self.store._insert(CheckRow)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                    .returning(CheckRow.id)
                )
                check_id = inserted.scalar_one_or_none()
                if check_id is not None:
                    return check_id, True
            async with self.store._session() as session:
                first = (
                    await session.execute(
                        select(CheckRow.id, CheckRow.request_hash).where(
                            CheckRow.idempotency_key == idempotency_key
                        )
                    )
                ).one_or_none()
            if first is not None:
                if first.request_hash != digest:
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {idempotency_key!r} was first sent with a different "
                        f"request (check {first.id}); use a new key for a new request",
                        check_id=first.id,
                    )
                return first.id, False
        raise StoreUnavailable("check changed concurrently; retry the request")

    async def claim(self, owner: str, now: datetime, lease_seconds: float) -> Job | None:
        """The oldest due job, now running under owner's lease, its attempt counted."""
        expired = now - timedelta(seconds=lease_seconds)
        due = or_(
            and_(CheckRow.status == "queued", CheckRow.next_attempt_at <= now),
            and_(CheckRow.status == "running", CheckRow.locked_at < expired),
        )
        claimed = {
            "status": "running",
            "locked_by": owner,
            "locked_at": now,
            "attempts": CheckRow.attempts + 1,
        }
        row = await self._claim(due, claimed, CheckRow.request, CheckRow.attempts)
        if row is None:
            return None
        return Job(
            id=row.id,
            request=CheckIn.model_validate(row.request),
            attempts=row.attempts,
            callback_url=row.callback_url,
        )

    async def claim_delivery(
        self, owner: str, now: datetime, lease_seconds: float
    ) -> tuple[int, str] | None:
        """(id, callback_url) of a finished check whose delivery is pending and whose lease
        expired (the worker delivering it died)."""
        expired = now - timedelta(seconds=lease_seconds)
        due = and_(
            CheckRow.delivery_status == "pending",
            CheckRow.status.in_(["done", "failed"]),
            or_(CheckRow.locked_at.is_(None), CheckRow.locked_at < expired),
            CheckRow.callback_url.is_not(None),
        )
        row = await self._claim(due, {"locked_by": owner, "locked_at": now})
        return (row.id, row.callback_url) if row else None

    async def _claim(
        self, due: ColumnElement[bool], values: dict[str, Any], *columns: Any
    ) -> Any | None:
        returning = (CheckRow.id, CheckRow.callback_url, *columns)
        async with self.store._writing() as session:
            if self._postgres:
                # Rows other instances are claiming are skipped, not waited for.
                check_id = await session.scalar(
                    select(CheckRow.id)
                    .where(due)
                    .order_by(CheckRow.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if check_id is None:
                    return None
                statement = update(CheckRow).where(CheckRow.id == check_id)
            else:
                oldest = select(CheckRow.id).where(due).order_by(CheckRow.id).limit(1)
                # `due` again outside: the row must still be due when the UPDATE writes it.
                statement = update(CheckRow).where(CheckRow.id == oldest.scalar_subquery(), due)
            result = await session.execute(statement.values(**values).returning(*returning))
            return result.one_or_none()

    async def renew(self, check_id: int, owner: str, now: datetime) -> bool:
        """Extend owner's lease; False when it is no longer owner's (it expired and was
        claimed by another worker)."""
        return await self._update(check_id, owner, locked_at=now)

    async def retry_later(self, check_id: int, owner: str, error: str, at: datetime) -> bool:
        """Back to the queue, due at `at`, with the error that sent it back."""
        return await self._update(
            check_id,
            owner,
            CheckRow.status == "running",
            status="queued",
            error=error,
            next_attempt_at=at,
            locked_by=None,
            locked_at=None,
        )

    async def release(self, check_id: int, owner: str, now: datetime) -> bool:
        """Give a job back unfinished (the service is stopping); the attempt does not count."""
        return await self._update(
            check_id,
            owner,
            CheckRow.status == "running",
            status="queued",
            attempts=CheckRow.attempts - 1,
            next_attempt_at=now,
            locked_by=None,
            locked_at=None,
        )

    async def fail(self, check_id: int, owner: str, error: str, now: datetime) -> bool:
        """The job is failed for good: its report says why; a callback still gets it."""
        async with self.store._writing() as session:
            row = await session.get(CheckRow, check_id, with_for_update=True)
            if row is None or row.locked_by != owner:
                return False
            report = CheckReport.model_validate({**(row.report or {}), **progress(row)})
            failed = {"status": "failed", "error": error, "finished_at": now}
            finish(row, report.model_copy(update=failed))
            return True

    async def discard(self, check_id: int, owner: str) -> None:
        """Delete a reserved synchronous check that failed, freeing its idempotency key so a
        retry runs again; only while owner still holds it."""
        async with self.store._writing() as session:
            await session.execute(
                delete(CheckRow).where(
                    CheckRow.id == check_id,
                    CheckRow.locked_by == owner,
                    CheckRow.status == "running",
                )
            )

    async def record_delivery(
        self,
        check_id: int,
        *,
        status: str,
        attempts: int,
        error: str | None,
        delivered_at: datetime | None = None,
    ) -> None:
        """One webhook attempt's outcome; a final status also ends the delivery's lease."""
        values: dict[str, Any] = {
            "delivery_status": status,
            "delivery_attempts": attempts,
            "delivered_at": delivered_at,
        }
        if error is not None:
            values["delivery_error"] = error
        if status != "pending":
            values |= {"locked_by": None, "locked_at": None}
        async with self.store._writing() as session:
            await session.execute(update(CheckRow).where(CheckRow.id == check_id).values(**values))

    async def _update(
        self, check_id: int, owner: str, *where: ColumnElement[bool], **values: Any
    ) -> bool:
        async with self.store._writing() as session:
            result = await session.execute(
                update(CheckRow)
                .where(CheckRow.id == check_id, CheckRow.locked_by == owner, *where)
                .values(**values)
            )
            return result.rowcount == 1
