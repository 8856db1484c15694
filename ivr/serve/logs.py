"""Log output of `ivr serve`: plain text lines, or with IVR_LOG_FORMAT=json one JSON object per
line (python-json-logger) for log collectors, gunicorn's own lines included.

The fields are the record's time, level, logger, process and message: the service never puts a
caller's field into a message, and the formatter adds no request data of its own."""
from __future__ import annotations

import logging
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(process)d %(message)s"
JSON_NAMES = {"levelname": "level", "name": "logger", "process": "pid"}


class LogFormatError(ValueError):
    pass


def checked_format(value: str) -> str:
    if value not in FORMATS:
        raise LogFormatError(f"IVR_LOG_FORMAT: {value!r} is not a log format; expected one of "
                             f"{', '.join(FORMATS)}")
    return value


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter
    # "time": ISO 8601 in UTC; exc_info_as_array keeps a traceback inside its line's object
    return JsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES, timestamp="time", exc_info_as_array=True)


def formatter(log_format: str) -> logging.Formatter:
    return json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


# Libraries whose INFO lines say nothing an operator needs at every start (alembic: "Context
# impl SQLiteImpl.", "setup plugin ..."): their warnings still come through, and the store logs
# its own line when a start migrates the database.
QUIET_LOGGERS = ("alembic",)


def configure(log_format: str) -> None:
    """The master's logging before gunicorn starts (the config check, start-up warnings)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def gunicorn_logconfig(log_format: str) -> dict[str, Any] | None:
    """gunicorn's `logconfig_dict`: for JSON, its error log goes through the same JSON handler as
    everything else. None for text: gunicorn's own format, as before."""
    if log_format != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True}},
    }
