"""Chooses the backends: the LLM ones when an endpoint or key is configured, else offline."""

from __future__ import annotations

from service.llm.base import Extractor, Judge
from service.llm.offline import OfflineExtractor
from service.settings import Settings


def build_backends(settings: Settings) -> tuple[Extractor, Judge | None]:
    """(extractor, judge). Offline there is no judge: comparison is by rules only."""
    if not settings.llm_enabled:
        return OfflineExtractor(), None
    from service.llm.client import build_client
    from service.llm.judge import LLMJudge
    from service.llm.llm_extractor import LLMExtractor

    client = build_client(settings)  # one client (one connection pool) per process
    return LLMExtractor(settings, client=client), LLMJudge(settings, client=client)
