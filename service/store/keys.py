"""API keys: shown in plain text once, at creation; stored only as a SHA-256 hash.

A key is 32 random bytes (`secrets.token_urlsafe`), so a fast hash is the right one: a slow
password hash (bcrypt, argon2) defends guessable secrets, and 256 random bits cannot be guessed.
A fast hash also lets a request's key be found with one lookup on the unique `key_hash` index.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.errors import InvalidInput, NotFound
from service.store.sql import guarded_session
from service.store.tables import ApiKeyRow, utcnow

PREFIX_LENGTH = 8
# last_used_at is written at most this often per key, so a busy key is not a write per request.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


class KeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def _session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return guarded_session(self._sessions)

    async def create(self, name: str) -> tuple[ApiKey, str]:
        """A new key: (its record, the plain key). The plain key cannot be recovered later."""
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("a key needs a name of 1 to 200 characters")
        plain = secrets.token_urlsafe(32)
        row = ApiKeyRow(
            name=name, prefix=plain[:PREFIX_LENGTH], key_hash=hash_key(plain), created_at=utcnow()
        )
        async with self._session() as session:
            session.add(row)
        return _key(row), plain

    async def list(self) -> list[ApiKey]:
        async with self._session() as session:
            rows = await session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))
            return [_key(row) for row in rows]

    async def revoke(self, key_id: int) -> ApiKey:
        """Revoke a key (revoking twice keeps the first time). Raises NotFound."""
        async with self._session() as session:
            row = await session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"API key {key_id} not found")
            row.revoked_at = row.revoked_at or utcnow()
        return _key(row)

    async def verify(self, plain: str) -> int | None:
        """The id of the active key `plain` is, or None; records its use (see TOUCH_INTERVAL)."""
        now = utcnow()
        async with self._session() as session:
            found = await session.execute(
                select(ApiKeyRow.id, ApiKeyRow.revoked_at, ApiKeyRow.last_used_at).where(
                    ApiKeyRow.key_hash == hash_key(plain)
                )
            )
            row = found.one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            stale = now - TOUCH_INTERVAL
            if row.last_used_at is None or row.last_used_at < stale:
                # The WHERE repeats the check, so instances racing on one key write once.
                await session.execute(
                    update(ApiKeyRow)
                    .where(ApiKeyRow.id == row.id)
                    .where(or_(ApiKeyRow.last_used_at.is_(None), ApiKeyRow.last_used_at < stale))
                    .values(last_used_at=now)
                )
            return row.id

    async def any_keys(self) -> bool:
        """Whether a key was ever created; revoked ones count (see service.api.auth)."""
        async with self._session() as session:
            return await session.scalar(select(ApiKeyRow.id).limit(1)) is not None


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
