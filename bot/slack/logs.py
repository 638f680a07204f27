"""Bolt's logging, kept free of request bodies (a view submission can hold a reflection) and
of error details that may quote what someone wrote."""

from __future__ import annotations

import logging

LOGGER_NAME = "bot.slack.bolt"


class WithoutRequestDetails(logging.Filter):
    """Cuts a record down to its first clause when it would quote a request or body."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: drop its arguments rather than fail
            message = str(record.msg)
        if "body" in message.lower() or "request" in message.lower():
            head = message.split("(", 1)[0].split(":", 1)[0].strip()
            record.msg = f"{head} (details withheld)"
            record.args = ()
        return True


def bolt_logger() -> logging.Logger:
    """The logger handed to Bolt; Bolt copies its level and filters to its own loggers."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(f, WithoutRequestDetails) for f in logger.filters):
        logger.addFilter(WithoutRequestDetails())
    for name in ("slack_bolt.RequestVerification", "slack_bolt.App"):
        quiet = logging.getLogger(name)
        if not any(isinstance(f, WithoutRequestDetails) for f in quiet.filters):
            quiet.addFilter(WithoutRequestDetails())
    return logger
