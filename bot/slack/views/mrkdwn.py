"""Text objects for Block Kit: Slack's mrkdwn needs &, < and > escaped."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, PlainTextObject, SectionBlock

from bot.slack.views.fitting import SECTION_TEXT, split_text


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=True)


def sections(text: str, *, escaped: bool = True) -> list[SectionBlock]:
    """Sections holding `text`, split to fit; escaped unless it is our own formatted copy."""
    body = escape(text) if escaped else text
    return [SectionBlock(text=markdown(part)) for part in split_text(body, limit=SECTION_TEXT)]
