"""The service's logging: one JSON object per line on stderr, each with the request id of the
request it was written for (``api.request_id``), for the log collector to index.

``hotline serve`` hands ``uvicorn_config()`` to uvicorn, which applies it in every worker
process, so uvicorn's own lines (start-up, errors, the access log when switched on) are JSON
too. ``HOTLINE_LOG_LEVEL`` sets the level (default INFO); ``HOTLINE_LOG_FORMAT=text`` gives
plain lines for a developer's terminal.
"""

from __future__ import annotations

import logging
import logging.config
import os

from pythonjsonlogger.json import JsonFormatter

from api import request_id


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on the record (``request_id``; None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current()
        return True


class Json(JsonFormatter):
    """python-json-logger with the fields named the way collectors expect, Chinese unescaped."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )


def uvicorn_config(level: str | None = None) -> dict:
    """A ``logging.config.dictConfig`` dict for the service and uvicorn alike."""
    level = (level or os.environ.get("HOTLINE_LOG_LEVEL") or "INFO").upper()
    plain = os.environ.get("HOTLINE_LOG_FORMAT", "json").lower() == "text"
    formatter = (
        {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
        if plain
        else {"()": f"{__name__}.Json"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's loggers carry their own handlers by default: send them to ours.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
        },
    }


def configure(level: str | None = None) -> None:
    """Apply the configuration in this process (commands that log without uvicorn)."""
    logging.config.dictConfig(uvicorn_config(level))
