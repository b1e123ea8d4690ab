"""Logging: one line per record on stderr, JSON (for log shippers) or text (for humans).

Every line carries the id of the request being handled when it was logged: the HTTP layer
(service.api.observability) sets REQUEST_ID for each request, and tasks started while handling
it inherit the context. Configured once, by the entry points (`factcheck serve`, and
service.asgi in each worker process), never at import.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from service.settings import LogFormat, LogLevel

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """`... INFO service.access [<request id>]: GET /v1/checks 200 12.3ms`; no [] outside one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request_tag = f" [{request_id}]" if request_id else ""
        return super().formatMessage(record)


def formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "text":
        return TextFormatter()
    return JsonFormatter(
        "{message}{levelname}{name}{request_id}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
        # Only to put the key first: timestamp=True fills in the value (UTC, ISO 8601).
        defaults={"timestamp": None},
        # uvicorn adds a copy of its message with terminal colour codes: not for a log file.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing `log_format` lines to `stream` (stderr), request ids included."""
    result = logging.StreamHandler(stream or sys.stderr)
    result.addFilter(RequestIdFilter())
    result.setFormatter(formatter(log_format))
    return result


def configure_logging(log_format: LogFormat, level: LogLevel) -> None:
    """Route every logger through one handler on the root logger (uvicorn's too)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format))
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration step


__all__ = [
    "REQUEST_ID",
    "RequestIdFilter",
    "TextFormatter",
    "configure_logging",
    "formatter",
    "handler",
]
