"""Running the API under uvicorn: one process, or several workers that each build the app.

With one worker uvicorn gets the app object. With more it needs an import string, so each
worker process calls `create()` (`uvicorn service.asgi:create --factory`), which reads the
settings from the environment like the parent did. The parent (`factcheck serve`) has already
migrated the database and ingested the seeds; workers only serve.

With several workers on Linux each worker listens on a socket of its own, all bound to the
port with SO_REUSEPORT, so the kernel spreads new connections evenly over them. uvicorn's
default, one socket shared by all, leaves each connection to whichever worker's epoll wakes
first, which is mostly the same one: under a burst of 64 checks one of two workers held 46
connections and did 72% of the work while the other core idled (benchmark section c; the
same effect Cloudflare measured for NGINX, "Why does one NGINX worker take all the load?").
A shared socket from which each worker accepts one connection per turn of its event loop did
no better (68-71% of the work on one worker, against 51-57% with SO_REUSEPORT; 2 workers on 2
cores, the benchmark's client on the same cores), most likely because whichever worker runs
on the core the client leaves free wins the race for each connection.
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
import sys
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
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(FACTORY, factory=True, workers=settings.workers, **options)
    try:
        sock = listening_socket(config)
    except OSError as exc:
        raise SystemExit(f"cannot listen on {settings.host}:{settings.port}: {exc}") from None
    with shared_metrics_dir():
        # What uvicorn.run does with workers, but with our socket (WorkerSocket).
        Multiprocess(config, sockets=[sock]).run()


def spreads_connections() -> bool:
    """SO_REUSEPORT balances connections over the sockets of a port on Linux only (on the
    BSDs and macOS the last socket bound takes them all)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(config: Any) -> socket.socket:
    """The socket uvicorn's supervisor hands to every worker it starts."""
    if not spreads_connections() or config.uds or config.fd is not None:
        return config.bind_socket()  # uvicorn's own: one socket, shared
    family, _, _, _, address = socket.getaddrinfo(
        config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    # First as a plain socket: SO_REUSEPORT alone would let this server join another one
    # already listening here (started twice) and silently take half its connections.
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
        address = probe.getsockname()  # port 0: the port the system picked
    return bind_reusable(family, address)


class WorkerSocket(socket.socket):
    """Sent to a worker process as its address, not as itself: the worker binds a socket of
    its own to the same port (unpickling calls bind_reusable), so each worker has its own
    accept queue. The parent's copy only holds the port; it never listens."""

    def __reduce__(self) -> tuple[Any, tuple[int, Any]]:
        return bind_reusable, (self.family, self.getsockname())


def bind_reusable(family: int, address: Any) -> WorkerSocket:
    sock = WorkerSocket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


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


__all__ = ["FACTORY", "create", "listening_socket", "serve", "shared_metrics_dir"]
