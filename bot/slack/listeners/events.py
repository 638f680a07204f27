"""Which Events API deliveries to act on, and acting on each one once.

Slack delivers at least once (retries carry X-Slack-Retry-Num over HTTP, retry_attempt in
Socket Mode), so every event id is claimed in the store before the event is processed.
"""

from __future__ import annotations

from typing import Any

from bot.slack.parts import Parts


def is_direct_message(event: dict[str, Any]) -> bool:
    """A person's own new message in their DM with the bot: not a bot's, not an edit or join."""
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and bool(event.get("user"))
        and bool(event.get("channel"))
    )


def for_another_app(body: dict[str, Any], *, app_id: str | None) -> bool:
    sent_to = body.get("api_app_id")
    return bool(app_id and sent_to and sent_to != app_id)


def readable(text: object) -> str:
    """Text as it can be kept: a lone surrogate (valid JSON, but no UTF-8 store can hold it)
    becomes "?"."""
    return str(text or "").encode("utf-8", errors="replace").decode("utf-8")


def first_delivery(parts: Parts, body: dict[str, Any]) -> bool:
    """Claim the event id; False if this event was already processed."""
    event_id = body.get("event_id")
    if not event_id:
        return True
    return parts.store.claim_event(str(event_id), at=parts.clock())
