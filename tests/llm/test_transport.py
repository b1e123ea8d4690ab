"""The LLM client's transport against a real HTTP server on a local socket: which connection
each request gets, and the limits httpx documents (service.llm.transport)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from service.llm.client import build_client
from service.llm.transport import OneConnectionEach
from service.settings import Settings


@dataclass
class Server:
    """HTTP/1.1 with keep-alive; answers every request after `delay` seconds."""

    delay: float = 0.0
    hang_up_idle: bool = False  # close each connection right after answering
    opened: int = 0
    closed: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    peers: list[int] = field(default_factory=list)  # client port of each request
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        port = writer.get_extra_info("peername")[1]
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = 0
                for line in head.decode().split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":")[1])
                await reader.readexactly(length)
                self.peers.append(port)
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                await asyncio.sleep(self.delay)
                self.in_flight -= 1
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
                if self.hang_up_idle:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed += 1
            writer.close()


@contextlib.asynccontextmanager
async def serving(server: Server) -> AsyncIterator[Server]:
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/"
    try:
        yield server
    finally:
        listener.close()


def client(transport: OneConnectionEach) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=5)


async def test_requests_one_after_another_share_one_connection():
    async with serving(Server()) as server:
        transport = OneConnectionEach()
        async with client(transport) as http:
            for _ in range(5):
                assert (await http.post(server.url, content=b"{}")).text == "ok"
        assert server.opened == 1
        assert len(set(server.peers)) == 1


async def test_requests_at_once_get_a_connection_each_and_a_second_burst_reuses_them():
    async with serving(Server(delay=0.05)) as server:
        transport = OneConnectionEach()
        async with client(transport) as http:
            await asyncio.gather(*(http.get(server.url) for _ in range(8)))
            assert (server.opened, server.most_in_flight) == (8, 8)
            assert (transport.idle, transport.busy) == (8, 0)
            await asyncio.gather(*(http.get(server.url) for _ in range(8)))
        assert server.opened == 8
        assert len(server.peers) == 16 and len(set(server.peers)) == 8


async def test_at_most_max_connections_at_once_the_rest_wait():
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with serving(Server(delay=0.05)) as server:
        transport = OneConnectionEach(limits)
        async with client(transport) as http:
            answers = await asyncio.gather(*(http.get(server.url) for _ in range(6)))
        assert [a.status_code for a in answers] == [200] * 6
        assert server.most_in_flight == 2
        assert server.opened == 2


async def test_a_request_that_waits_longer_than_the_pool_timeout_gets_pool_timeout():
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with serving(Server(delay=0.5)) as server:
        transport = OneConnectionEach(limits)
        timeout = httpx.Timeout(5, pool=0.05)
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as http:
            first = asyncio.create_task(http.get(server.url))
            await asyncio.sleep(0.1)
            with pytest.raises(httpx.PoolTimeout):
                await http.get(server.url)
            assert (await first).status_code == 200
            assert transport.busy == 0


async def test_no_more_idle_connections_are_kept_than_max_keepalive():
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=1)
    async with serving(Server(delay=0.05)) as server:
        transport = OneConnectionEach(limits)
        async with client(transport) as http:
            await asyncio.gather(*(http.get(server.url) for _ in range(4)))
            await asyncio.sleep(0.05)  # the server sees the surplus ones close
            assert transport.idle == 1
            assert server.closed == 3


async def test_a_connection_the_server_hung_up_is_replaced_not_failed():
    async with serving(Server(hang_up_idle=True)) as server:
        transport = OneConnectionEach()
        async with client(transport) as http:
            for _ in range(3):
                assert (await http.get(server.url)).status_code == 200
                await asyncio.sleep(0.05)
        assert server.opened == 3


async def test_a_failed_request_gives_its_connection_slot_back():
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    transport = OneConnectionEach(limits)
    async with serving(Server()) as server:
        url = server.url
    async with client(transport) as http:
        for _ in range(3):  # with the slot lost, the second would wait for ever
            with pytest.raises(httpx.ConnectError):
                await http.get(url)
        assert transport.busy == 0


async def test_a_cancelled_request_gives_its_connection_slot_back():
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with serving(Server(delay=1.0)) as server:
        transport = OneConnectionEach(limits)
        async with client(transport) as http:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await http.get(server.url)
            assert transport.busy == 0
            server.delay = 0.0
            assert (await http.get(server.url)).status_code == 200


async def test_closing_the_transport_closes_its_idle_connections():
    async with serving(Server(delay=0.02)) as server:
        transport = OneConnectionEach()
        async with client(transport) as http:
            await asyncio.gather(*(http.get(server.url) for _ in range(3)))
        await asyncio.sleep(0.05)
        assert (transport.idle, server.closed) == (0, 3)


async def test_new_connections_share_one_tls_context(monkeypatch):
    made = []
    original = ssl.create_default_context

    def counted(*args, **kwargs):
        made.append(args or kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    async with serving(Server(delay=0.02)) as server:
        transport = OneConnectionEach()
        async with client(transport) as http:
            await asyncio.gather(*(http.get(server.url) for _ in range(8)))
        assert server.opened == 8
    assert len(made) == 1


async def test_the_llm_client_is_built_on_it():
    raw = build_client(Settings(llm_base_url="http://127.0.0.1:9/v1")).client
    assert isinstance(raw._client._transport, OneConnectionEach)
