"""Which Events API deliveries to act on, and acting on each one once.

Slack delivers at least once (retries carry X-Slack-Retry-Num over HTTP, retry_attempt in
Socket Mode), so every event id is claimed in the store before the event is processed.
"""

from __future__ import annotations

from typing import Any

from bot.slack.parts import Parts

#: Message subtypes that carry no new words from the person: edits, deletions, bots' posts and
#: Slack's own notices. Every other subtype (file_share with a comment, me_message,
#: thread_broadcast, and any Slack adds later) is read, screened and answered.
NOT_WRITTEN_BY_THE_PERSON = frozenset(
    {
        "message_changed",
        "message_deleted",
        "message_replied",
        "bot_message",
        "bot_add",
        "bot_remove",
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "pinned_item",
        "unpinned_item",
        "ekm_access_denied",
        "reminder_add",
        "tombstone",
        "assistant_app_thread",
        "huddle_thread",
    }
)


def is_direct_message(event: dict[str, Any]) -> bool:
    """A person's own words in their DM with the bot, in a thread or not, whatever the subtype
    (a file shared with a comment, a /me message, a reply also sent to the DM): not a bot's,
    not an edit, a deletion or one of Slack's notices."""
    return (
        event.get("type") == "message"
        and event.get("channel_type") == "im"
        and event.get("subtype") not in NOT_WRITTEN_BY_THE_PERSON
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and not event.get("hidden")
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
