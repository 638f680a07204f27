"""Direct messages to the bot: every one goes through the engine (safety screen first).

The answer is stored by the engine before the ack; the replies are posted after it, in order,
on the person's lane, in the thread the person wrote in, if they wrote in one.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.engine.replies import AfterCrisis, CheckIn, Signpost
from bot.slack.delivery import cleanup
from bot.slack.identity import owner_tag
from bot.slack.listeners import home
from bot.slack.listeners.events import (
    first_delivery,
    for_another_app,
    is_direct_message,
    readable,
)
from bot.slack.parts import Parts
from bot.slack.views import notices
from bot.slack.views.blocks import compose

#: Replies that are said before anything else, on their own.
SAFETY_REPLIES = (Signpost, CheckIn, AfterCrisis)


def register(app: App, parts: Parts) -> None:
    @app.event("message")
    def on_message(
        ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext
    ) -> None:
        if not is_direct_message(event) or for_another_app(body, app_id=parts.app_id):
            ack()
            return
        person = parts.person(context, greet=True)
        if person is None:
            ack()
            return
        channel = str(event["channel"])
        thread_ts = str(event["thread_ts"]) if event.get("thread_ts") else None
        with parts.locks.hold(person):
            # The claim and all the engine writes commit together, before the ack; a failure
            # rolls the claim back too, so there is no ack and Slack's redelivery is processed.
            with parts.store.writing():
                fresh = first_delivery(parts, body)
                text = readable(event.get("text"))
                first: list[Any] = []
                replies = []
                stopped: str | None = None
                if fresh:
                    session = parts.store.load_session(person)
                    answering = session is not None and session.status == "active"
                    replies = parts.conversations.receive(person, text)
                    if not any(isinstance(reply, SAFETY_REPLIES) for reply in replies):
                        # a card or the check-in question is said first and alone
                        first = notices.first_posts(parts, person, typed_answer=answering)
                    if session is not None and parts.store.load_session(person) is None:
                        stopped = session.flow_id  # finished or stopped: its questions go
            ack()
            if not fresh:
                return
            posts = first + compose(replies, owner=owner_tag(person))
            parts.lanes.submit(person.id, lambda: _post(parts, channel, posts, thread_ts))
            if stopped:
                cleanup.clear_questions_later(
                    parts, person, channel=channel, replies=replies, stopped=stopped
                )
            if home.finished(replies):
                home.publish_later(parts, person, user_id=str(event["user"]))


def _post(parts: Parts, channel: str, posts: list[Any], thread_ts: str | None) -> None:
    parts.delivery.post(channel=channel, posts=posts, thread_ts=thread_ts)
