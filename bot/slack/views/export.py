"""`/reflect export`: a person's own reflections, as the same Markdown `reflect data export`
writes, posted to their DM in pieces that fit Slack's limits."""

from __future__ import annotations

from bot.engine.people import Person
from bot.slack.parts import Parts
from bot.slack.views.blocks import Post
from bot.slack.views.fitting import FALLBACK_TEXT, pack, shorten
from bot.slack.views.mrkdwn import sections
from bot.store.export import as_markdown


def posts(text: str) -> list[Post]:
    fallback = shorten(text, limit=FALLBACK_TEXT)
    return [Post(text=fallback, blocks=tuple(run)) for run in pack(sections(text))]


def send(parts: Parts, person: Person, *, user_id: str) -> None:
    kept = parts.store.export(person)
    titles = {flow.id: flow.title for flow in parts.conversations.library}
    text = as_markdown(kept, exported_at=parts.clock(), titles=titles)
    channel = parts.delivery.dm_channel(user_id=user_id)
    if channel:
        parts.delivery.post(channel=channel, posts=posts(text))
