"""API keys on every request, then the per-client rate limit.

The service is open while it has no key at all: none in FACTCHECK_API_KEYS and none ever
created in the database (`factcheck keys create`). From the first key on, every request needs
a valid, unrevoked key, sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`; health
probes, the API docs and their static assets stay open. Revoked keys still count as keys, so
revoking the last one locks the service rather than opening it to everyone.
"""

from __future__ import annotations

from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from service.api.rate_limit import RateLimiter
from service.settings import Settings
from service.store.base import Store
from service.store.keys import KeyStore, hash_key
from service.store.sql import SqlStore

# The reviewer widget's page and files stay open: the page asks for a key itself.
OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/schema", "/widget", "/widget.js", "/widget.css"}
)
OPEN_PREFIXES = ("/schema/", "/static/")  # the docs and their assets (service.app.SWAGGER_PATH)
_MAX_KEY_LENGTH = 200  # real keys are 43 characters; longer ones are not worth a lookup


def access_middleware(settings: Settings, store: Store) -> AccessMiddleware:
    keys = KeyStore(store.engine) if isinstance(store, SqlStore) else None
    per_minute = settings.rate_limit_per_minute
    return AccessMiddleware(
        keys, settings.api_keys, RateLimiter(per_minute) if per_minute else None
    )


class AccessMiddleware(ASGIMiddleware):
    # One instance serves every request: its limiter and "locked" flag are meant to be shared.
    scopes = (ScopeType.HTTP,)
    exclude_opt_key = "public"  # a handler with opt={"public": True} needs no key

    def __init__(
        self, keys: KeyStore | None, static_keys: list[str], limiter: RateLimiter | None
    ) -> None:
        self.keys = keys
        self.static = {hash_key(key): n for n, key in enumerate(static_keys)}
        self.limiter = limiter
        self.locked = bool(static_keys)
        self.should_bypass_for_scope = _is_open_path

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        client = await self._client(scope)
        self._throttle(client)
        await next_app(scope, receive, send)

    async def _client(self, scope: Scope) -> str:
        """Who is asking: `key:<id>`, or `ip:<address>` while the service is open."""
        presented = _presented_key(Headers.from_scope(scope))
        if presented and len(presented) <= _MAX_KEY_LENGTH:
            static = self.static.get(hash_key(presented))
            if static is not None:
                return f"key:static-{static}"
            key_id = await self.keys.verify(presented) if self.keys else None
            if key_id is not None:
                return f"key:{key_id}"
        address = f"ip:{scope['client'][0] if scope.get('client') else 'unknown'}"
        if not await self._locked():
            return address
        # Failed attempts spend the address's tokens, so guessing keys is throttled too.
        self._throttle(address)
        if presented:
            detail, challenge = "the API key is not valid (unknown or revoked)", "invalid_token"
        else:
            detail, challenge = (
                "this service needs an API key: send `Authorization: Bearer <key>` "
                "or `X-API-Key: <key>`",
                None,
            )
        header = f'Bearer error="{challenge}"' if challenge else "Bearer"
        raise NotAuthorizedException(detail, headers={"WWW-Authenticate": header})

    async def _locked(self) -> bool:
        # Keys are revoked, never deleted, so once locked this process stays locked and stops
        # asking the database. Open, it asks on each keyless request: one tiny query, so a key
        # created from the command line takes effect at once.
        if not self.locked and self.keys is not None:
            self.locked = await self.keys.any_keys()
        return self.locked

    def _throttle(self, client: str) -> None:
        if self.limiter is None:
            return
        wait = self.limiter.acquire(client)
        if wait:
            raise TooManyRequestsException(
                f"rate limit of {self.limiter.capacity:.0f} requests a minute exceeded; "
                f"retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )


def _presented_key(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else ""
    return key or headers.get("x-api-key", "").strip() or None


def _is_open_path(scope: Scope) -> bool:
    path = scope["path"]
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)
