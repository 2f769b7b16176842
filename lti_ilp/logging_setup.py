"""Redaction of secrets from request logs.

Request lines name the session token (``/s/<token>/...``), and a misbehaving client can
put an id_token, state or nonce in a query string. Access logs of the development server
(werkzeug) and of gunicorn pass through ``redact_request_line`` before they are written.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_SESSION_PATH_RE = re.compile(r"/s/[^/\s?#\"]+")
_QUERY_RE = re.compile(r"\?[^\s\"]*")


def redact_request_line(text: str) -> str:
    """Replace session tokens in paths and every query string in ``text``."""
    text = _SESSION_PATH_RE.sub("/s/" + REDACTED, text)
    return _QUERY_RE.sub("?" + REDACTED, text)


class RequestLineRedactor(logging.Filter):
    """Rewrite a log record's formatted message with ``redact_request_line``."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        record.msg = redact_request_line(message)
        record.args = None
        return True


def install_log_redaction() -> None:
    """Attach the redactor to the werkzeug request logger once per process."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(existing, RequestLineRedactor) for existing in logger.filters):
        logger.addFilter(RequestLineRedactor())
