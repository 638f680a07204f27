"""A bot process that dies after the ack, for the crash tests: lanes that never run (it died
right after the ack), and what the fake Slack holds of the bot's replies."""

from __future__ import annotations

from typing import Any

from bot.slack.delivery.lanes import Lanes
from bot.slack.delivery.outbox import METADATA_TYPE
from tests.slack.fake_slack import FakeSlack


class LostLanes(Lanes):
    """The lanes of a process that dies right after each ack: nothing submitted ever runs."""

    def submit(self, key: str, job: Any) -> None:
        return None


def replies(fake: FakeSlack, user: str = "U1") -> list[dict[str, Any]]:
    """The bot's replies in the person's DM (messages posted from the outbox), oldest first."""
    return [
        m
        for m in fake.messages(fake.dm_of(user))
        if (m.get("metadata") or {}).get("event_type") == METADATA_TYPE
    ]


def delivery_keys(fake: FakeSlack, user: str = "U1") -> list[str]:
    return [m["metadata"]["event_payload"]["delivery"] for m in replies(fake, user)]


def asked_step(message: dict[str, Any]) -> str | None:
    """The step whose question this message asks, if it asks one."""
    for block in message.get("blocks") or []:
        block_id = str(block.get("block_id") or "")
        if block_id.startswith("q|"):
            return block_id.rsplit("|", 1)[-1]
    return None
