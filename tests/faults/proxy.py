"""A TCP proxy between the service and its database, which a test cuts and restores.

The database really goes away for the service (its connections drop, new ones are refused)
while the PostgreSQL server itself, which other tests share, keeps running:

    with TcpProxy("127.0.0.1", 5432) as proxy:   # the service connects to proxy.port
        proxy.cut()       # stop listening, drop every open connection: "database down"
        proxy.restore()   # listen on the same port again: "database back"
        proxy.partition() # keep every connection open but carry nothing: "network partition"

The proxy runs its own event loop in a thread. Litestar's test client runs the app in another
thread and blocks the test's loop while a request is handled, so a proxy on the test's loop
would never get to forward that request's queries. cut() and restore() may be called from any
thread but the proxy's own, e.g. from inside a request, to cut the database mid-transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any

TIMEOUT = 10.0  # seconds a cut or restore may take; the loop only closes and opens sockets


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.accepted = 0  # connections forwarded so far, across cuts
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self._silent = False

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *_: object) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT)
        self._loop.close()

    @property
    def up(self) -> bool:
        return self._server is not None

    @property
    def open_connections(self) -> int:
        return len(self._open) // 2  # a client side and a database side each

    def cut(self) -> None:
        """Refuse new connections and reset the open ones, both sides."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        self._call(self._listen())

    def partition(self) -> None:
        """Accept connections and keep the open ones, but carry no byte either way, as a
        partitioned network does: nothing fails, nothing answers. cut() ends it."""
        self._silent = True

    def _call(self, work: Coroutine[Any, Any, None]) -> None:
        if threading.current_thread() is self._thread:
            raise RuntimeError("cut() and restore() would wait for their own thread")
        asyncio.run_coroutine_threadsafe(work, self._loop).result(TIMEOUT)

    async def _listen(self) -> None:
        if self._server is None:
            # reuse_address (asyncio's default on Unix) lets the port be taken again at once.
            self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        self._silent = False
        server, self._server = self._server, None
        if server is not None:
            server.close()  # listening stops now; wait_closed would wait for the clients
        for writer in list(self._open):
            writer.transport.abort()  # RST, not FIN: a crash or a cable, not a goodbye
        self._open.clear()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted just before a cut
            writer.transport.abort()
            return
        if self._silent:  # held open, never answered, until the client gives up or a cut
            self._open.add(writer)
            try:
                with contextlib.suppress(OSError):
                    while await reader.read(65536):
                        pass
            finally:
                self._open.discard(writer)
                writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        if self._server is None:  # cut while connecting
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self.accepted += 1
        self._open |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.create_task(self._pipe(source, sink, (writer, up_writer)))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        ends: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while data := await source.read(65536):
                if self._silent:
                    continue  # lost on the way
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            # One side closed: close the other too, as a real connection would end.
            for end in ends:
                self._open.discard(end)
                with contextlib.suppress(Exception):
                    end.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
