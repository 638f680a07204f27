"""The time, for everything that asks what time it is: always aware, always UTC. Code that
needs a clock takes one as a parameter (tests hand in their own), defaulting to `utcnow`."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
