"""What Reflect says once: the first-use agreement (readable again from the Home tab), and, the
first time someone types an answer in the DM, what that means for their Slack history.

Whether a notice was shown is kept per pseudonym (`store.first_time`), with nothing else; a
person who erases their data with `/reflect forget` is shown the agreement again next time.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.engine.people import Person
from bot.slack.parts import Parts
from bot.slack.views import copy
from bot.slack.views.blocks import Post
from bot.slack.views.fitting import HEADER_TEXT, shorten
from bot.slack.views.modals import modal
from bot.slack.views.mrkdwn import plain, sections

AGREEMENT = "agreement"
TYPED_IN_DM = "typed_in_dm"
#: The Home tab button that opens the agreement.
READ_AGREEMENT = "read_agreement"


def agreement_blocks(parts: Parts, person: Person | None = None) -> list[Block]:
    body = copy.text(
        "agreement.body",
        days=parts.retention_days(person),
        min_group=parts.settings.min_group_size,
    )
    return [
        HeaderBlock(text=plain(shorten(copy.text("agreement.heading"), limit=HEADER_TEXT))),
        *sections(body, escaped=False),
        ContextBlock(elements=[plain(copy.text("agreement.footer"))]),
    ]


def agreement_view(parts: Parts, person: Person | None = None) -> View:
    return modal(agreement_blocks(parts, person)[:-1], title="agreement.title")


def first_posts(parts: Parts, person: Person, *, typed_answer: bool = False) -> list[Post]:
    """The one-time notices due now, to post before the replies. Call inside the request's
    writing transaction, so a notice is marked shown only with the rest of the request."""
    posts: list[Post] = []
    if parts.store.first_time(person, AGREEMENT):
        posts.append(
            Post(text=copy.text("agreement.title"), blocks=tuple(agreement_blocks(parts, person)))
        )
    if typed_answer and parts.store.first_time(person, TYPED_IN_DM):
        notice = copy.text("typed.notice")
        posts.append(Post(text=copy.text("fallback.message"), blocks=tuple(sections(notice))))
    return posts
