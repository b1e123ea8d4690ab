"""callback_url into the server's own network (SSRF): refused when posted if the URL shows it,
refused when delivered if the name resolves there, and a delivery connects to the address that
was checked (a real receiver on 127.0.0.1, reached under a name only our resolver knows)."""

from __future__ import annotations

import httpx
import pytest

from service.jobs.destinations import CallbackPolicy
from service.store.sql import SqlStore
from tests.api.test_articles import assert_problem
from tests.api.test_async_checks import ARTICLE, offline_app, serving
from tests.api.test_webhooks import Receiver, receiver  # noqa: F401 (fixture)
from tests.store.test_jobs import count_rows

LOCAL = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "fe80::1",
    "fd00::5",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "0.0.0.0",
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", LOCAL)
def test_local_addresses_are_refused_by_default(address: str) -> None:
    reason = CallbackPolicy().refusal(address)
    assert reason is not None and "not a public address" in reason
    assert CallbackPolicy(allow_local=True).refusal(address) is None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert CallbackPolicy().refusal(address) is None


def test_the_allowlist_takes_networks_addresses_and_names() -> None:
    policy = CallbackPolicy.from_entries(["10.2.0.0/16", " 127.0.0.1 ", "CMS.internal.", ""])
    assert policy.refusal("10.2.200.1") is None
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("10.3.0.1") is not None
    assert policy.refusal("127.0.0.2") is not None
    assert policy.trusts("cms.internal") and policy.trusts("CMS.INTERNAL")
    assert not policy.trusts("other.internal")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://api.localhost:9000/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/hook",
    ],
)
async def test_a_local_callback_url_is_422_and_nothing_is_queued(store: SqlStore, url: str) -> None:
    async with serving(offline_app(store, callback_allowlist=[])) as (client, _):
        response = await client.post("/v1/checks", json={**ARTICLE, "callback_url": url})
        problem = assert_problem(response, 422)
        assert problem["type"].endswith("callback-url-refused")
        assert "FACTCHECK_CALLBACK_ALLOW_LOCAL" in problem["detail"]
        assert await count_rows(store) == 0


async def test_allow_local_lets_an_internal_cms_through(store: SqlStore) -> None:
    body = {**ARTICLE, "callback_url": "http://10.0.0.7/hooks"}
    app = offline_app(store, callback_allowlist=[], callback_allow_local=True)
    async with serving(app) as (client, _):
        assert (await client.post("/v1/checks", json=body)).status_code == 202


def resolving(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "addresses", [["127.0.0.1"], ["93.184.216.34", "10.0.0.1"]], ids=["local", "one-of-two"]
)
async def test_a_name_resolving_into_the_network_is_not_delivered(
    store: SqlStore,
    receiver: Receiver,  # noqa: F811
    addresses: list[str],
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    async with serving(offline_app(store, callback_allowlist=[])) as (client, worker):
        worker.callbacks = CallbackPolicy(resolver=resolving({"hooks.example.com": addresses}))
        body = {**ARTICLE, "callback_url": f"http://hooks.example.com:{port}/hooks"}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]
        assert await worker.poll_once() == check_id

        delivery = (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]
        assert (delivery["status"], delivery["attempts"]) == ("failed", 1)  # never retried
        assert (
            "resolves to 10.0.0.1" in delivery["last_error"]
            or "127.0.0.1" in (delivery["last_error"])
        )
        assert receiver.received == []


async def test_delivery_connects_to_the_address_it_checked(
    store: SqlStore,
    receiver: Receiver,  # noqa: F811
) -> None:
    # "receiver.test" exists only in this resolver: the report can only arrive if the
    # connection went to the address the policy checked, with the name kept in Host.
    port = receiver.url.split(":")[2].split("/")[0]
    async with serving(offline_app(store, callback_allowlist=[])) as (client, worker):
        worker.callbacks = CallbackPolicy.from_entries(
            ["127.0.0.0/8"], resolver=resolving({"receiver.test": ["127.0.0.1"]})
        )
        body = {**ARTICLE, "callback_url": f"http://receiver.test:{port}/hooks"}
        check_id = (await client.post("/v1/checks", json=body)).json()["id"]
        assert await worker.poll_once() == check_id

        delivery = (await client.get(f"/v1/checks/{check_id}")).json()["delivery"]
        assert delivery["status"] == "delivered", delivery
        [(headers, _)] = receiver.received
        assert headers["host"] == f"receiver.test:{port}"


async def test_an_unresolvable_name_is_retried_like_a_connection_error() -> None:
    policy = CallbackPolicy(resolver=resolving({}))
    with pytest.raises(httpx.ConnectError, match=r"cannot resolve nowhere\.example"):
        await policy.address_for("nowhere.example", 443)
