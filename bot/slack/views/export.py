"""`/reflect export`: a person's own reflections, as the same Markdown `reflect data export`
writes, shown in a modal. A modal is not a message, so the export never lands in the Slack
history (nor in a notification)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock
from slack_sdk.models.views import View

from bot.engine.people import Person
from bot.slack.parts import Parts
from bot.slack.views import copy
from bot.slack.views.fitting import within_view
from bot.slack.views.modals import modal
from bot.slack.views.mrkdwn import plain, sections
from bot.store.export import as_markdown


def export_view(text: str | None) -> View:
    """The export in a modal; when Slack cannot show all of it, says where the rest is."""
    blocks: list[Block] = [*sections(text if text else copy.text("export.none"))]
    shown = within_view(blocks)
    if len(shown) < len(blocks):
        shown = [*shown[:-1], ContextBlock(elements=[plain(copy.text("export.cut"))])]
    return modal(shown, title="export.title")


def open_modal(parts: Parts, person: Person, *, trigger_id: str) -> None:
    kept = parts.store.export(person)
    titles = {flow.id: flow.title for flow in parts.conversations.library}
    text = as_markdown(kept, exported_at=parts.clock(), titles=titles) if kept else None
    parts.delivery.open_view(trigger_id=trigger_id, view=export_view(text))
