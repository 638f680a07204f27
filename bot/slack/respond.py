"""The ack protocol, in one place: every listener answers Slack through `respond`.

    person -> guard -> lock -> transaction (engine -> outbox) -> ack -> lane (deliver)

1. person: who is asking (nobody we can name: ack, and nothing else happens);
2. guard: whether this request is one to act on (a click on someone else's question: ack only);
3. lock and transaction: one request per person at a time (across processes too: on
   PostgreSQL the transaction takes the person's advisory lock before anything is read), and
   everything the engine writes commits together before the ack, with what it will say: the
   replies go into the outbox (bot.store.outbox) in the same transaction. So a crash after the
   ack loses nothing, and a failure before it leaves Slack to deliver again;
4. engine: the work itself, which returns what the listener needs (usually the replies);
5. ack: within Slack's three seconds, before any Web API call of the listener's own;
6. lane: after the ack the person's lane delivers the outbox, in order, once
   (bot.slack.delivery.outbox); if this process dies first, another (or this one restarted)
   delivers it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext
from slack_sdk.models.views import View

from bot.engine.people import Person
from bot.engine.replies import AfterCrisis, CheckIn, Reply, Signpost, Summary
from bot.slack.delivery import cleanup
from bot.slack.delivery.gateway import installation_key
from bot.slack.delivery.outbox import OutboxSender, clear_call, post_call
from bot.slack.identity import owner_tag, workspace_of
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
            if transaction:  # before anything is read: across processes too, one at a time
                parts.outbox.take_turn(person)
            result = engine(person)
            job = then(person, result) if then else None  # its replies join the transaction
        ack(**(answer(result) if answer else {}))
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


def open_window_after_ack(
    parts: Parts,
    *,
    ack: Ack,
    context: BoltContext,
    trigger_id: str,
    window: Callable[[Person], View | None],
) -> None:
    """A click that opens a window: ack, then open what `window` gives for the person (None:
    nothing to open) with the click's trigger."""

    def then(person: Person, _: None) -> Job:
        def job() -> None:
            view = window(person)
            if view is not None:
                parts.delivery.open_view(trigger_id=trigger_id, view=view)

        return job

    respond(
        parts,
        ack=ack,
        context=context,
        guard=lambda _: bool(trigger_id),
        engine=lambda _: None,
        then=then,
        transaction=False,
    )


def handled(
    parts: Parts, person: Person, run: Callable[[], Sequence[Reply]], *, typed: bool = False
) -> Handled:
    """Run the engine (inside the request's transaction) and note what goes with its replies.
    `typed`: the text was typed in the DM, so the note on Slack's history may be due. The
    session is read once for all of it (Conversations.step)."""
    with parts.conversations.step(person) as step:
        replies = run()
        before = step.before
        ended = step.ended
    first: list[Post] = []
    if not any(isinstance(reply, SAFETY_REPLIES) for reply in replies):  # a card goes alone
        answering = typed and before is not None and before.status == "active"
        first = notices.first_posts(parts, person, typed_answer=answering)
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
    first: Sequence[dict[str, Any]] = (),
) -> Callable[[], None]:
    """Queue the engine's replies in the outbox (call inside the request's transaction) and
    return the lane job that delivers them: in `channel` (in the thread `thread_ts`, if the
    person wrote in one), or in the DM of `user_id`; after the outbox calls `first` (e.g. taking
    a question's buttons away) and the lane work `before`. When a reflection ends, its
    questions are deleted from the DM (they may quote the leader's answers), and a finished one
    refreshes the Home tab."""
    where = Where(channel=channel, user_id=user_id, thread_ts=thread_ts)
    return queue(parts, person, said, where=where, before=before, first=first).job


@dataclasses.dataclass(frozen=True)
class Where:
    """Where replies go: `channel` (in the thread `thread_ts`), or the DM of `user_id`."""

    channel: str | None = None
    user_id: str | None = None
    thread_ts: str | None = None


@dataclasses.dataclass(frozen=True)
class Queued:
    """Replies in the outbox: their delivery keys, and the lane job that delivers them."""

    deliveries: list[str]
    job: Callable[[], None]


def calls_for(
    person: Person, said: Handled, *, where: Where, first: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The outbox calls that say the engine's replies (bot.slack.respond.say)."""
    posts = [*said.first, *compose(said.replies, owner=owner_tag(person))]
    calls = [*first] + [
        post_call(post, channel=where.channel, user_id=where.user_id, thread_ts=where.thread_ts)
        for post in posts
        if where.channel or where.user_id
    ]
    home_for = where.user_id or user_of(person)
    prefixes = cleanup.question_prefixes(person, replies=said.replies, stopped=said.ended)
    if prefixes and (where.channel or home_for):
        calls.append(clear_call(channel=where.channel, user_id=home_for, prefixes=prefixes))
    # Whose token delivers it, installed over OAuth: the installation the request came
    # through (rows from before it was kept: the person's workspace).
    where_from = {"workspace": workspace_of(person)}
    installation = installation_key()
    if installation is not None:
        where_from["installation"] = installation
    return [{**call, **where_from} for call in calls]


def queue(
    parts: Parts,
    person: Person,
    said: Handled | Sequence[Reply],
    *,
    where: Where,
    before: Job = None,
    first: Sequence[dict[str, Any]] = (),
) -> Queued:
    """`say`, keeping the delivery keys (to say the same otherwise before it goes out)."""
    done = said if isinstance(said, Handled) else Handled(tuple(said))
    home_for = where.user_id or user_of(person)
    finished = any(isinstance(reply, Summary) for reply in done.replies)
    calls = calls_for(person, done, where=where, first=first)
    deliveries = parts.outbox.add(person, calls, now=parts.clock())

    def job() -> None:
        if before is not None:
            before()
        OutboxSender(parts, checkpoint=parts.checkpoint).drain(person)
        if finished and home_for:  # the Home tab lists reflections: show the new one
            parts.delivery.publish_home(user_id=home_for, view=home_view(parts, person))

    return Queued(deliveries, job)


def user_of(person: Person) -> str | None:
    """The Slack user id inside a person's id (`TEAM:USER`)."""
    _, _, user = person.id.rpartition(":")
    return user or None
