"""Where a webhook may go. A callback_url asks this server to connect somewhere on a client's
behalf, so without a guard any API key could make it POST into the server's own network
(server-side request forgery): an admin page on localhost, a cloud metadata endpoint at
169.254.169.254, a service at 10.x that trusts its neighbours.

By default a callback must reach a public (globally routable) address. A newsroom whose CMS is
internal lifts that with FACTCHECK_CALLBACK_ALLOW_LOCAL, or names what may be reached anyway in
FACTCHECK_CALLBACK_ALLOWLIST: host names (matched as written in the URL, not resolved) and
networks in CIDR notation (matched against the resolved address).

Checked twice. When a check is posted, an address written in the URL, or "localhost", is
refused at once (422). When the report is delivered, the host name is resolved here, every
address it resolves to must pass, and the connection goes to the address that passed, with the
name still in the Host header and in TLS (SNI and certificate check): a name that resolves to a
public address when checked and to 127.0.0.1 when connected (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from service.errors import CallbackRefused
from service.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> addresses; the system resolver unless a test hands in its own
Resolver = Callable[[str, int], Awaitable[list[str]]]
_LOCAL_NAMES = ("localhost", "localhost.", "localhost.localdomain")
HINT = "set FACTCHECK_CALLBACK_ALLOW_LOCAL=true, or add the host to FACTCHECK_CALLBACK_ALLOWLIST"


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class CallbackPolicy:
    allow_local: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_entries(
        cls, entries: Iterable[str], *, allow_local: bool = False, resolver: Resolver | None = None
    ) -> CallbackPolicy:
        """Allowlist entries as FACTCHECK_CALLBACK_ALLOWLIST holds them: a network, an
        address (a network of one), or else a host name."""
        hosts, networks = set(), []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.casefold().rstrip("."))
        return cls(allow_local, frozenset(hosts), tuple(networks), resolver or system_resolver)

    @classmethod
    def of(cls, settings: Settings) -> CallbackPolicy:
        return cls.from_entries(
            settings.callback_allowlist, allow_local=settings.callback_allow_local
        )

    def trusts(self, host: str) -> bool:
        return self.allow_local or host.casefold().rstrip(".") in self.hosts

    def refusal(self, address: str) -> str | None:
        """Why a callback may not connect to this address, or None if it may."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if self.allow_local or any(ip in network for network in self.networks):
            return None
        if ip.is_global and not ip.is_multicast:
            return None
        return f"{ip} is {_kind(ip)}, not a public address"

    def check_url(self, url: str) -> None:
        """At submission: refuse what the URL alone shows to be local (no DNS lookup here,
        which would make every POST wait on a resolver; delivery resolves and checks)."""
        host = (urlsplit(url).hostname or "").casefold()
        if self.trusts(host):
            return
        if host in _LOCAL_NAMES or host.endswith(".localhost"):
            raise CallbackRefused(f"callback_url host {host!r} is this server itself; {HINT}")
        try:
            reason = self.refusal(host)
        except ValueError:  # a name, not an address
            return
        if reason is not None:
            raise CallbackRefused(f"callback_url refused: {reason}; {HINT}")

    async def address_for(self, host: str, port: int) -> str:
        """The address to connect to for host: every address it resolves to must pass (a
        name with one public and one private address is refused, since either may be used)."""
        try:
            addresses = await self.resolver(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpx.ConnectError(f"{host} resolves to no address")
        for address in addresses:
            if (reason := self.refusal(address)) is not None:
                raise CallbackRefused(f"callback host {host} resolves to {reason}; {HINT}")
        return addresses[0]

    def transport(self) -> httpx.AsyncBaseTransport:
        return _PinnedTransport(self)


class _PinnedTransport(httpx.AsyncBaseTransport):
    """Connects to the address the policy checked, not to whatever the name resolves to by
    the time the connection is made."""

    def __init__(self, policy: CallbackPolicy) -> None:
        self.policy = policy
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if not self.policy.trusts(host):
            port = request.url.port or (443 if request.url.scheme == "https" else 80)
            address = await self.policy.address_for(host, port)
            if address != host:
                # Host header was set from the URL already; TLS verifies the name through SNI.
                request.url = request.url.copy_with(host=address)
                request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _kind(ip: Address) -> str:
    for test, name in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (cloud metadata lives there)"),
        (ip.is_private, "a private-network address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "the unspecified address"),
    ):
        if test:
            return name
    return "a reserved address"


__all__ = ["CallbackPolicy", "Resolver", "system_resolver"]
