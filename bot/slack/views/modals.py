"""A modal window, built the one way every window here is: its texts from the copy by key, its
title cut to what Slack shows."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.views import copy
from bot.slack.views.fitting import MODAL_TITLE, shorten
from bot.slack.views.mrkdwn import plain


def modal(
    blocks: Sequence[Block],
    *,
    title: str,
    close: str = "home.close",
    submit: str | None = None,
    callback_id: str | None = None,
    private_metadata: str | None = None,
) -> View:
    """A modal of `blocks`; `title`, `close` and `submit` are copy keys (no submit button
    without `submit`, and then Slack sends nothing back: no `callback_id` is needed)."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=private_metadata,
        title=plain(shorten(copy.text(title), limit=MODAL_TITLE)),
        submit=plain(copy.text(submit)) if submit else None,
        close=plain(copy.text(close)),
        blocks=list(blocks),
    )
