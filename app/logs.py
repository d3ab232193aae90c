"""Logging for the server and CLI, set up in every process (uvicorn's workers do not inherit it).

TRUNKLINE_LOG_FORMAT=json writes one JSON object per line for log collectors; text is for people.
Every line a request causes carries its request id (and workspace once known), from app.request_context.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime

from app import request_context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s%(request_tag)s: %(message)s"
# Chatty below WARNING: the ORM at start-up, the twilio SDK (~15 INFO lines with URLs per call),
# HTTP clients. uvicorn's access log is replaced by ours (trunkline.access), which knows the operation.
QUIET = ("tortoise", "twilio", "livekit", "aiohttp", "httpx", "httpcore", "asyncio", "uvicorn.access")
# Fields a record carries through `extra=`, copied into the JSON object.
EXTRA_FIELDS = ("method", "path", "operation", "field", "status", "duration", "carrier", "outcome")


class RequestContextFilter(logging.Filter):
    """Stamps each record with the request it belongs to, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = request_context.current.get()
        record.request_id = info.request_id if info else None
        record.workspace_id = info.workspace_id if info else None
        record.request_tag = f" [{info.request_id}]" if info else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in ("request_id", "workspace_id", *EXTRA_FIELDS):
            if getattr(record, name, None) is not None:
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """The text format; a line's date and time are made once a second, not for every line (the access log
    writes one per request)."""

    _second: int | None = None
    _stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._stamp = second, time.strftime(self.default_time_format, self.converter(second))
        return self.default_msec_format % (self._stamp, record.msecs)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT)


def configure_logging(log_format: str | None = None, level: int = logging.INFO, stream=None) -> None:
    """Our INFO lines to stderr in `log_format` (default: TRUNKLINE_LOG_FORMAT, as Settings reads it);
    uvicorn's own loggers write through the same handler."""
    if log_format is None:
        from app.settings import log_format_from_env

        log_format = log_format_from_env(os.environ)
    # No format here prints a record's source line, thread or process name: not looked up for every record
    # (the logging HOWTO's "Optimization" section).
    logging._srcfile = None
    logging.logThreads = logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestContextFilter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
