"""Liveness and readiness probes (never behind API keys)."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from service.errors import StoreUnavailable
from service.models import Health
from service.store.base import Store


@get("/healthz", tags=["health"], summary="The process is alive")
async def healthz() -> Health:
    return Health(status="ok")


@get("/readyz", tags=["health"], summary="The database is reachable and migrated")
async def readyz(storage: NamedDependency[Store]) -> Response[Health]:
    try:
        current, head = await storage.ready()
    except StoreUnavailable as exc:
        return Response(Health(status="unavailable", detail=exc.detail), status_code=503)
    if current != head:
        detail = f"database at migration {current}, code expects {head}: run `factcheck migrate`"
        return Response(
            Health(status="unavailable", detail=detail, migration=current), status_code=503
        )
    return Response(Health(status="ok", database="reachable", migration=current))
