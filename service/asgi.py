"""Running the API under uvicorn: one process, or several workers that each build the app.

With one worker uvicorn gets the app object. With more it needs an import string, so each
worker process calls `create()` (`uvicorn service.asgi:create --factory`), which reads the
settings from the environment like the parent did. The parent (`factcheck serve`) has already
migrated the database and ingested the seeds; workers only serve.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Litestar

from service.metrics import MULTIPROC_ENV
from service.settings import Settings, load_settings

FACTORY = "service.asgi:create"
# Container allocations between young-generation collections (CPython's default is 700). A
# check allocates hundreds of thousands of short-lived objects, so the default collected
# every few hundred microseconds under load, each time re-scanning whatever 64 checks in
# flight held; a larger budget cut the server's CPU per check by about a tenth (benchmark
# section c, same batch with and without). Garbage in cycles waits a little longer.
GC_YOUNG_ALLOCATIONS = 50_000


def create() -> Litestar:
    """The app of one worker process: settings from the environment, logging configured."""
    from service.app import create_app
    from service.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    return settle(create_app(settings))


def settle(app: Litestar) -> Litestar:
    """Tune the collector for serving, once the app is built: what exists now (modules,
    unit registry, prompts, the app) lives as long as the process, so it is frozen out of
    every later collection; young collections get a larger allocation budget."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_ALLOCATIONS, 20, 20)
    return app


def serve(settings: Settings) -> None:
    """Serve until stopped; uvicorn's own lines go through our logging (no access log of its
    own: service.api.observability writes one line per request, with its id)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "log_level": settings.log_level.lower(),
        "access_log": False,
    }
    if settings.workers == 1:
        from service.app import create_app

        uvicorn.run(settle(create_app(settings)), **options)
        return
    with shared_metrics_dir():
        uvicorn.run(FACTORY, factory=True, workers=settings.workers, **options)


@contextmanager
def shared_metrics_dir() -> Iterator[str]:
    """A fresh PROMETHEUS_MULTIPROC_DIR that the workers inherit, removed afterwards; an
    operator's own (set in the environment) is used as it is."""
    if existing := os.environ.get(MULTIPROC_ENV):
        yield existing
        return
    folder = tempfile.mkdtemp(prefix="factcheck-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    try:
        yield folder
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


__all__ = ["FACTORY", "create", "serve", "shared_metrics_dir"]
