"""One line per event on stdout: time, level, execution id (or -), message."""
from __future__ import annotations

import logging
import sys
import time
from typing import Optional


class LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        execution = getattr(record, "execution_id", None) or "-"
        message = record.getMessage().replace("\n", "\\n")
        if record.exc_info:
            message += " | " + self.formatException(record.exc_info).replace("\n", "\\n")
        return f"{stamp}.{millis:03d}Z {record.levelname:<5} {execution} {message}"


_logger = logging.getLogger("stigmer")


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LineFormatter())
    for name in ("stigmer", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


def info(message: str, execution_id: Optional[str] = None) -> None:
    _logger.info(message, extra={"execution_id": execution_id})


def warning(message: str, execution_id: Optional[str] = None) -> None:
    _logger.warning(message, extra={"execution_id": execution_id})


def error(message: str, execution_id: Optional[str] = None, exc_info: bool = False) -> None:
    _logger.error(message, extra={"execution_id": execution_id}, exc_info=exc_info)
