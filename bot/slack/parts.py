"""Everything the listeners share, handed to each module's `register`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from slack_bolt import BoltContext

from bot.engine.conversation import Conversations
from bot.engine.people import Person
from bot.settings import Settings
from bot.slack.delivery.lanes import Lanes
from bot.slack.delivery.names import Profile, Profiles
from bot.slack.delivery.poster import Poster
from bot.slack.identity import person_in
from bot.slack.locks import PersonLocks
from bot.slack.storage import Outbox, SlackStore
from bot.store.organisations import Organisations
from bot.store.outbox import outbox_of
from bot.weekly.actions import WeeklyActions


@dataclass
class Parts:
    conversations: Conversations
    store: SlackStore
    settings: Settings
    delivery: Poster
    lanes: Lanes
    profiles: Profiles
    clock: Callable[[], dt.datetime]
    locks: PersonLocks = field(default_factory=PersonLocks)
    #: Our own app's id (from auth.test), to ignore events meant for other apps.
    app_id: str | None = None
    #: The weekly reminders (None: not offered, e.g. in tests of other parts).
    weekly: WeeklyActions | None = None
    #: Each organisation's own settings (None: the server's defaults apply to everyone).
    organisations: Organisations | None = None
    #: What steps will say, kept with them until posted (default: in the store's database).
    outbox: Outbox = None  # type: ignore[assignment]
    #: Installed over OAuth: an installation's bot token, by the key kept when something was
    #: set up through it (bot.slack.tokens.InstallationTokens), for calls outside a request.
    token_for: Callable[[str], str | None] | None = None
    #: Called by the outbox's sender at each step boundary; tests raise here to "crash".
    checkpoint: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if self.outbox is None:
            self.outbox = outbox_of(self.store)

    def person(self, context: BoltContext, *, greet: bool = False) -> Person | None:
        """The person behind a request, before the ack; with their first name and time zone
        when we will talk to them and they are remembered (no Slack call before the ack: see
        `named`)."""
        profile = self.profiles.known(context.user_id) if greet and context.user_id else Profile()
        return person_in(
            context,
            first_name=profile.first_name,
            timezone=profile.timezone,
            known=getattr(self.store, "known", None),
        )

    def named(self, context: BoltContext, person: Person) -> Person:
        """After the ack (on the person's lane): the person with their first name and time
        zone, looked up with users.info unless remembered, and remembered for next time."""
        if not context.user_id:
            return person
        profile = self.profiles.of(context.user_id)
        return replace(person, first_name=profile.first_name, timezone=profile.timezone)

    def retention_days(self, person: Person | None) -> int:
        """How long the person's reflections are kept: their organisation's period, if it set
        a shorter one, else the server's."""
        found = self.conversations.organisation(person) if person is not None else None
        return found.retention_days if found is not None else self.settings.retention_days
