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
from service.api.checks import CheckController
from service.api.health import healthz, readyz
from service.api.problems import HANDLERS
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

    async def close_store() -> None:
        await store.close()

    return Litestar(
        route_handlers=[
            ArticleController,
            CheckController,
            healthz,
            readyz,
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
        },
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.max_article_bytes,
        cors_config=CORSConfig(allow_origins=settings.cors_origins)
        if settings.cors_origins
        else None,
        openapi_config=_openapi(),
        on_shutdown=[close_store],
    )


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
