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
        if "`token` will be unused" in message:
            return False  # Bolt saw SLACK_BOT_TOKEN in the environment; we hand it the client
        if "body" in message.lower() or "request" in message.lower():
            head = message.split("(", 1)[0].split(":", 1)[0].strip()
            record.msg = f"{head} (details withheld)"
            record.args = ()
        return True


#: Libraries that log request and response bodies (message text, ids) at DEBUG, and
#: connection URLs at INFO: kept at WARNING whatever REFLECT_LOG_LEVEL says.
NOISY = ("slack_sdk", "slack_bolt", "websocket", "urllib3")


def quiet_libraries() -> None:
    for name in NOISY:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.WARNING))


def bolt_logger() -> logging.Logger:
    """The logger handed to Bolt; Bolt copies its level and filters to its own loggers."""
    quiet_libraries()
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(max(logger.level, logging.INFO))
    if not any(isinstance(f, WithoutRequestDetails) for f in logger.filters):
        logger.addFilter(WithoutRequestDetails())
    for name in ("slack_bolt.RequestVerification", "slack_bolt.App"):
        quiet = logging.getLogger(name)
        if not any(isinstance(f, WithoutRequestDetails) for f in quiet.filters):
            quiet.addFilter(WithoutRequestDetails())
    return logger
