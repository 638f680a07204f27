"""Making what we post fit Slack's Block Kit limits, which slack_sdk does not all check.

Text longer than a section takes is split at paragraph, line or word boundaries; blocks are
packed into messages of at most 50 (100 for views).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import Block

SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
OPTION_TEXT = 75
MODAL_TITLE = 24
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
#: The notification text beside the blocks; Slack truncates at 40,000, we stay well inside.
FALLBACK_TEXT = 3000
#: A view's JSON may be at most 250 kB; keep a margin for the view's own fields.
VIEW_BYTES = 240_000


def split_text(text: str, *, limit: int = SECTION_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at the kindest boundary."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return pieces


def shorten(text: str, *, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def within_view(blocks: Sequence[Block], *, most: int = VIEW_BLOCKS) -> list[Block]:
    """As many of `blocks`, from the top, as a view can hold (100 blocks, 250 kB of JSON)."""
    kept: list[Block] = []
    size = 0
    for block in blocks[:most]:
        size += len(json.dumps(block.to_dict()).encode()) + 1
        if size > VIEW_BYTES:
            break
        kept.append(block)
    return kept


def pack(blocks: Sequence[Block], *, per_message: int = MESSAGE_BLOCKS) -> list[list[Block]]:
    """Blocks in runs of at most `per_message`."""
    return [list(blocks[i : i + per_message]) for i in range(0, len(blocks), per_message)]
