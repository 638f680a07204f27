"""`/reflect export`: a person's own reflections, as Markdown, posted to their DM in pieces
that fit Slack's limits."""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.people import Person
from bot.engine.reflections import StoredReflection
from bot.slack import copy
from bot.slack.blocks import Post
from bot.slack.fitting import FALLBACK_TEXT, pack, shorten
from bot.slack.mrkdwn import sections
from bot.slack.parts import Parts


def markdown(reflections: Sequence[StoredReflection], *, titles: dict[str, str]) -> str:
    parts = [copy.text("export.heading"), copy.text("export.intro")]
    if not reflections:
        parts.append(copy.text("export.empty"))
    for reflection in reflections:
        title = titles.get(reflection.flow_id, reflection.flow_id)
        date = reflection.finished_at.date().isoformat()
        entry = copy.text("export.entry", title=title, date=date, summary=reflection.summary)
        parts.append(entry)
    return "\n\n".join(parts) + "\n"


def posts(text: str) -> list[Post]:
    fallback = shorten(text, limit=FALLBACK_TEXT)
    return [Post(text=fallback, blocks=tuple(run)) for run in pack(sections(text))]


def send(parts: Parts, person: Person, *, user_id: str) -> None:
    kept = parts.store.export(person)
    titles = {flow.id: flow.title for flow in parts.conversations.library}
    channel = parts.delivery.dm_channel(user_id=user_id)
    if channel:
        parts.delivery.post(channel=channel, posts=posts(markdown(kept, titles=titles)))
