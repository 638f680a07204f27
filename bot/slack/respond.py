"""The ack protocol, in one place: every listener answers Slack through `respond`.

    person -> guard -> lock -> transaction -> engine -> ack -> compose -> lane

1. person: who is asking (nobody we can name: ack, and nothing else happens);
2. guard: whether this request is one to act on (a click on someone else's question: ack only);
3. lock and transaction: one request per person at a time, and everything the engine writes
   commits together before the ack, so a crash after the ack loses nothing and a failure before
   it leaves Slack to deliver again;
4. engine: the work itself, which returns what the listener needs (usually the replies);
5. ack: within Slack's three seconds, before any Web API call of the listener's own;
6. compose and lane: what is said afterwards goes on the person's lane, in order, off the
   request thread (submitted while the lock is held, so lanes keep the engine's order).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext

from bot.engine.people import Person
from bot.engine.replies import AfterCrisis, CheckIn, Reply, Signpost, Summary
from bot.slack.delivery import cleanup
from bot.slack.identity import owner_tag
from bot.slack.parts import Parts
from bot.slack.views import notices
from bot.slack.views.blocks import Post, compose
from bot.slack.views.home import home_view

#: Replies said before anything else, on their own: no one-time notice goes before them.
SAFETY_REPLIES = (Signpost, CheckIn, AfterCrisis)

T = TypeVar("T")
#: Work for the person's lane after the ack; None: nothing to do.
Job = Callable[[], object] | None


def respond(
    parts: Parts,
    *,
    ack: Ack,
    context: BoltContext,
    engine: Callable[[Person], T],
    greet: bool = False,
    guard: Callable[[Person], bool] | None = None,
    answer: Callable[[T], dict[str, Any]] | None = None,
    then: Callable[[Person, T], Job] | None = None,
    transaction: bool = True,
) -> None:
    """Run one request through the ack protocol. `answer` gives the ack's own content (e.g. a
    view to show), `then` the job for the lane. `transaction=False` only for work that commits
    in steps of its own (erasure)."""
    person = parts.person(context, greet=greet)
    if person is None or (guard is not None and not guard(person)):
        ack()
        return
    with parts.locks.hold(person):
        with parts.store.writing() if transaction else contextlib.nullcontext():
            result = engine(person)
        ack(**(answer(result) if answer else {}))
        job = then(person, result) if then else None
        if job is not None:
            parts.lanes.submit(person.id, job)


@dataclass(frozen=True)
class Handled:
    """What the engine did with one request: its replies, the one-time notices due before them
    (bot.slack.views.notices), and the flow that ended here, if one did (its questions are then
    cleared from the DM)."""

    replies: Sequence[Reply]
    first: Sequence[Post] = ()
    ended: str | None = None


def handled(
    parts: Parts, person: Person, run: Callable[[], Sequence[Reply]], *, typed: bool = False
) -> Handled:
    """Run the engine (inside the request's transaction) and note what goes with its replies.
    `typed`: the text was typed in the DM, so the note on Slack's history may be due."""
    before = parts.store.load_session(person)
    replies = run()
    first: list[Post] = []
    if not any(isinstance(reply, SAFETY_REPLIES) for reply in replies):  # a card goes alone
        answering = typed and before is not None and before.status == "active"
        first = notices.first_posts(parts, person, typed_answer=answering)
    ended = before.flow_id if before and parts.store.load_session(person) is None else None
    return Handled(replies, first, ended)


def say(
    parts: Parts,
    person: Person,
    said: Handled | Sequence[Reply],
    *,
    channel: str | None = None,
    user_id: str | None = None,
    thread_ts: str | None = None,
    before: Job = None,
) -> Callable[[], None]:
    """The lane job that posts the engine's replies: in `channel` (in the thread `thread_ts`,
    if the person wrote in one), or in the DM of `user_id`; after `before` (e.g. taking a
    question's buttons away). When a reflection ends, its questions are deleted from the DM
    (they may quote the leader's answers), and a finished one refreshes the Home tab."""
    done = said if isinstance(said, Handled) else Handled(tuple(said))
    posts = [*done.first, *compose(done.replies, owner=owner_tag(person))]
    home_for = user_id or user_of(person)
    finished = any(isinstance(reply, Summary) for reply in done.replies)

    def job() -> None:
        if before is not None:
            before()
        if posts and channel:
            parts.delivery.post(channel=channel, posts=posts, thread_ts=thread_ts)
        elif posts and user_id:
            parts.delivery.post_to_dm(user_id=user_id, posts=posts)
        if finished or done.ended:
            cleanup.clear_questions(
                parts,
                person,
                channel=channel,
                user_id=home_for,
                replies=done.replies,
                stopped=done.ended,
            )
        if finished and home_for:  # the Home tab lists reflections: show the new one
            parts.delivery.publish_home(user_id=home_for, view=home_view(parts, person))

    return job


def user_of(person: Person) -> str | None:
    """The Slack user id inside a person's id (`TEAM:USER`)."""
    _, _, user = person.id.rpartition(":")
    return user or None
