"""Logging for the commands that run for a while (`reflect run`, `reflect nudges run-once`).

Reflect's own modules log no Slack id, name or text at any level. The Slack libraries (and the
HTTP and websocket layers under them) log whole requests and responses at DEBUG, which carry
ids, names and message text, so they are held at WARNING from the moment logging is set up,
before the first call to Slack, whatever REFLECT_LOG_LEVEL says.
"""

from __future__ import annotations

import logging

#: Libraries that log request and response bodies (ids, names, text) at DEBUG, and connection
#: URLs at INFO.
NOISY = ("slack_sdk", "slack_bolt", "websocket", "urllib3", "httpx", "httpcore")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    """Log at `level` to stderr, with the Slack libraries kept at WARNING."""
    logging.basicConfig(level=level, format=FORMAT)
    for name in NOISY:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.WARNING))
