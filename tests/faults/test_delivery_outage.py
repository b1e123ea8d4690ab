"""PostgreSQL goes away in the middle of a webhook delivery (through tests/faults/proxy.py).

The receiver has the report, but the worker cannot record that it was delivered. Nothing is
lost: the check stays done, its delivery stays pending under the dead attempt's lease, and once
the database is back and that lease has expired a worker delivers it again (at least once, as
the README promises: the receiver deduplicates on X-Factcheck-Check-Id) and records it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.store.tables import utcnow
from tests.api.test_async_checks import SECRET
from tests.api.test_webhooks import Receiver
from tests.faults.conftest import (
    POSTGRES_ONLY,
    Clock,
    count_rows,
    eventually,
    fault_settings,
    proxied_store,
)
from tests.faults.proxy import TcpProxy

pytestmark = POSTGRES_ONLY
KILLED = "Smirnov said 12 people had been killed in the Kursk region on Monday."


class CuttingReceiver(Receiver):
    """Answers 200, but the first time only after the database has gone."""

    def __init__(self, proxy: TcpProxy) -> None:
        super().__init__()
        self.proxy = proxy

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.received:
            self.proxy.cut()
        await super().handle(reader, writer)


async def test_a_delivery_cut_off_from_the_database_is_delivered_again_once_it_is_back(
    database_url: str, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    lease = 5.0
    settings = fault_settings(
        job_concurrency=1,
        job_poll_seconds=0.02,
        job_lease_seconds=lease,
        webhook_secret=SECRET,
        callback_allowlist=["127.0.0.1"],
    )
    receiver = CuttingReceiver(proxy)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    callback = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hooks"
    app = create_app(settings, store=proxied_store(database_url, proxy))
    clock = app.state.worker.clock = Clock()
    caplog.set_level(logging.WARNING, logger="service.jobs")
    async with server, AsyncTestClient(app) as client:
        accepted = await client.post("/v1/checks", json={"text": KILLED, "callback_url": callback})
        assert accepted.status_code == 202, accepted.text
        location = accepted.headers["location"]
        clock.now = utcnow()  # the job is due from now on

        for _ in range(500):  # the worker runs the check and delivers; the database goes
            if receiver.received and not proxy.up:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the worker never delivered the report")
        await asyncio.sleep(0.3)  # the worker fails to record it; its loop polls on
        assert (await client.get("/readyz")).status_code == 503

        proxy.restore()
        stuck = (await client.get(location)).json()
        assert stuck["status"] == "done"
        assert stuck["delivery"]["status"] == "pending"  # not recorded, not lost
        await asyncio.sleep(0.3)  # the dead attempt's lease still holds
        assert len(receiver.received) == 1

        clock.advance(timedelta(seconds=lease + 1))
        done = await eventually(
            lambda: _json(client, location), lambda r: r["delivery"]["status"] == "delivered"
        )

    server.close()
    ids = [headers["x-factcheck-check-id"] for headers, _ in receiver.received]
    assert ids == [str(done["id"])] * 2  # at least once: the same check, twice
    rows = await count_rows(database_url)
    assert (rows.articles, rows.checks) == (1, 1)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    # The worker polled through the outage many times, and said so once.
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("claiming a check job failed" in m for m in said) <= 1, said
    assert any("interrupted" in m and "delivery" in m for m in said), said


async def _json(client: AsyncTestClient, path: str) -> dict:
    return (await client.get(path)).json()
