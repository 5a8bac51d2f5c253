"""Keep e-mail addresses and secrets out of the logs.

:func:`redact_record` rewrites a record's message (arguments merged in) and its formatted
traceback. :func:`install` (called from ``SecurityConfig.ready``) wraps the log record
factory, so every record is redacted when it is made, whichever logger made it and whichever
handler (configured now or added later: Celery's, a test's) writes it; the
:class:`RedactingFilter` on the handlers configured at start-up is a second net.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
SECRETS = (
    # Our API tokens, bearer headers and signed or keyed URL segments.
    re.compile(r"\bcvt_[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(/confirm-email/)[^/\s?]+"),
    re.compile(r"(?i)(/password/reset/key/)[^/\s?]+"),
    re.compile(r"(?i)(/restore/)[^/\s?]+"),
    re.compile(r"(?i)(/unsubscribe/)[^/\s?]+"),
    # key=value pairs in query strings, form dumps and messages (secret_key=, x-api-token:).
    re.compile(
        r"(?i)(\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|sessionid|csrftoken"
        r"|csrfmiddlewaretoken|signature|key|code|auth)[\w-]*[\"']?\s*[=:]\s*[\"']?)"
        r"[^\s&\"',;]{4,}"
    ),
)


# Names that end in "key" or start with "auth" but label no secret: "KeyError: 'app_label'" in
# a traceback, Django's "Unauthorized: /api/auth/token" request log line (secrets in a path or a
# query string are caught by the patterns above).
NOT_A_SECRET_NAME = re.compile(
    r"(?:(?:Error|Exception)[\"']?|^\s*Unauthorized)\s*:\s*[\"']?$", re.IGNORECASE
)


def _replace(match: re.Match[str]) -> str:
    prefix = match.group(1) if match.groups() else ""
    if prefix and NOT_A_SECRET_NAME.search(prefix):
        return match.group(0)
    return prefix + REDACTED


def redact(text: str) -> str:
    """``text`` with e-mail addresses and secrets replaced by ``[redacted]``."""
    text = EMAIL.sub(REDACTED, text)
    for pattern in SECRETS:
        text = pattern.sub(_replace, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave it for the handler to report
        return record
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    return record


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class RedactingRecordFactory:
    """Wraps the current record factory; every record leaves it redacted."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(self.wrapped(*args, **kwargs))


def all_handlers() -> list[logging.Handler]:
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    handlers: list[logging.Handler] = []
    for logger in loggers:
        handlers += [h for h in logger.handlers if h not in handlers]
    return handlers


def install() -> int:
    """Redact every new record; add the filter to every configured handler that lacks it
    (return how many got it)."""
    if not isinstance(logging.getLogRecordFactory(), RedactingRecordFactory):
        logging.setLogRecordFactory(RedactingRecordFactory(logging.getLogRecordFactory()))
    added = 0
    for handler in all_handlers():
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
            added += 1
    return added
