"""Builds the Litestar application: routes, OpenAPI, error mapping, dependencies."""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from service.api.articles import ArticleController
from service.api.auth import access_middleware
from service.api.checks import CheckController
from service.api.health import healthz, readyz
from service.api.observability import metrics_endpoint, observe
from service.api.problems import HANDLERS
from service.api.widget import WIDGET_ROUTES
from service.jobs import build_jobs
from service.llm.base import Extractor, Judge
from service.llm.factory import build_backends
from service.pipeline.run import Pipeline
from service.settings import Settings
from service.store.base import Store
from service.store.sql import SqlStore

# Swagger UI ships inside a PyPI package, so /schema works with no network (no CDN).
SWAGGER_STATIC = Path(swagger_ui.__file__).parent / "static"
SWAGGER_PATH = "/static/swagger"


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    backends: tuple[Extractor, Judge | None] | None = None,
) -> Litestar:
    """The app for these settings; tests may hand in a store or backends they own."""
    store = store or SqlStore.from_url(settings.database_url)
    extractor, judge = backends or build_backends(settings)
    pipeline = Pipeline(store=store, extractor=extractor, judge=judge, settings=settings)
    checks, worker = build_jobs(pipeline, settings)

    async def close_store() -> None:
        await store.close()

    app = Litestar(
        route_handlers=[
            ArticleController,
            CheckController,
            healthz,
            readyz,
            *WIDGET_ROUTES,
            metrics_endpoint,
            create_static_files_router(
                path=SWAGGER_PATH, directories=[SWAGGER_STATIC], include_in_schema=False
            ),
        ],
        dependencies={
            # Not "store": that is a field of the check request body, and Litestar would
            # report a bad value there as a broken dependency (500) instead of a 422.
            "storage": Provide(lambda: store, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "pipeline": Provide(lambda: pipeline, sync_to_thread=False),
            "checks": Provide(lambda: checks, sync_to_thread=False),
        },
        middleware=[access_middleware(settings, store)],
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_article_bytes,
        cors_config=CORSConfig(
            allow_origins=settings.cors_origins,
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Idempotency-Key",
                "Prefer",
                "X-Request-ID",
            ],
            expose_headers=["Location", "Retry-After", "Preference-Applied", "X-Request-ID"],
        )
        if settings.cors_origins
        else None,
        openapi_config=_openapi(),
        # The worker (service.jobs) stops before the store it works on closes.
        on_startup=[worker.start],
        on_shutdown=[worker.stop, close_store],
        logging_config=None,  # configured once by the entry point (service.logs), not per app
    )
    # Outermost, around routing: unmatched and refused requests get an id, a log line, metrics.
    app.asgi_handler = observe(app.asgi_handler)
    app.state.worker = worker  # tests drive it with worker.poll_once()
    return app


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Fact-check service",
        version="0.1.0",
        description="Extracts an article's claims and cross-checks them against other outlets.",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{SWAGGER_PATH}/swagger-ui-bundle.js",
                css_url=f"{SWAGGER_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{SWAGGER_PATH}/swagger-ui-standalone-preset.js",
                favicon=f'<link rel="icon" href="{SWAGGER_PATH}/favicon-32x32.png">',
            )
        ],
    )
