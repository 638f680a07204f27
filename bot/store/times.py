"""How the store writes and reads times: UTC, fixed width, so that text order is time order."""

from __future__ import annotations

import datetime as dt

from bot.engine.clock import utcnow

__all__ = ["parse", "stamp", "utcnow"]

_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def stamp(at: dt.datetime) -> str:
    """`at` as fixed-width UTC text. A naive datetime is taken to be UTC already."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime(_FORMAT)


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
