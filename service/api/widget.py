"""The reviewer widget: its page, its embeddable script and stylesheet (plain files, no build)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from litestar import Response, get
from litestar.di import NamedDependency

from service.settings import Settings

MEDIA_TYPES = {
    "widget.html": "text/html; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}


@cache
def _read(name: str) -> str:
    return (resources.files("service") / "widget" / name).read_text(encoding="utf-8")


def _file(name: str, **headers: str) -> Response[str]:
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", **headers}
    return Response(_read(name), media_type=MEDIA_TYPES[name], headers=headers)


@get("/widget", include_in_schema=False)
async def widget_page(settings: NamedDependency[Settings]) -> Response[str]:
    # Only this service's own files run on the page; only the CMS origins allowed by CORS may
    # frame it (and so post it drafts).
    ancestors = " ".join(["'self'", *settings.cors_origins])
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
    )
    return _file("widget.html", **{"Content-Security-Policy": policy})


@get("/widget.js", include_in_schema=False)
async def widget_script() -> Response[str]:
    return _file("widget.js")


@get("/widget.css", include_in_schema=False)
async def widget_stylesheet() -> Response[str]:
    return _file("widget.css")


WIDGET_ROUTES = [widget_page, widget_script, widget_stylesheet]
