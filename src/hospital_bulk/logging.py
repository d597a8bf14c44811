"""Logging set-up, called once by the CLI: readable lines, or one JSON object per line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

#: Structured fields that log calls pass in `extra=` and that both formats show.
FIELDS = ("action", "job_id", "batch_id", "row")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            if (value := getattr(record, field, None)) is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [
            f"{field}={value}"
            for field in FIELDS
            if (value := getattr(record, field, None)) is not None
        ]
        return f"{line} [{' '.join(fields)}]" if fields else line


class _SkipBundledDirectoryAccess(logging.Filter):
    """Drop uvicorn's access lines for the bundled Directory mounted at /directory.

    The in-process worker calls it over HTTP once per row, so its lines would bury the
    service's own; the Directory's outcomes are logged by the client per job and row.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        path = args[2] if isinstance(args, tuple) and len(args) > 2 else ""
        return not (isinstance(path, str) and path.startswith("/directory/"))


def configure_logging(*, level: str = "INFO", json_output: bool = False) -> None:
    """Send the service's logs to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_output else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    access = logging.getLogger("uvicorn.access")
    access.filters[:] = [f for f in access.filters if not isinstance(f, _SkipBundledDirectoryAccess)]
    access.addFilter(_SkipBundledDirectoryAccess())
    # The Directory client logs each retry itself, with the request it retries.
    logging.getLogger("stamina").setLevel(logging.ERROR)
