"""Who a conversation is with, as far as the engine needs to know."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: The time zone of the machine the engine runs on (for the terminal).
LOCAL = "local"


@dataclass(frozen=True)
class Person:
    """A leader, identified by their transport.

    `id` is the transport's own identity, e.g. ``slack:T012:U345`` or ``terminal:alex``. The
    engine never stores or logs it: the store turns it into a pseudonym at its boundary.
    `first_name` (to greet) and `timezone` (an IANA name, for "this evening") are used while
    talking and never stored. `org` names the organisation whose installation the person came
    through (None for the terminal): the store keeps their key under that organisation's, so
    that an uninstall can erase the organisation whole.
    """

    id: str
    first_name: str | None = None
    timezone: str | None = None
    org: str | None = None

    def local(self, moment: dt.datetime) -> dt.datetime:
        """`moment` in the person's own time zone (unchanged when it is unknown)."""
        if not self.timezone:
            return moment
        if self.timezone == LOCAL:
            return moment.astimezone()
        try:
            return moment.astimezone(ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            return moment

    def __repr__(self) -> str:  # keep identities out of logs and tracebacks
        return "Person(<redacted>)"
