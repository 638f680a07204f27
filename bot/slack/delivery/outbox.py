"""Delivering the outbox (bot.store.outbox): what a step says, posted once, in order, after the ack.

`say` (bot.slack.respond) writes a step's calls into the outbox inside the step's transaction;
after the ack the person's lane runs `OutboxSender.drain(person)`. Each row is claimed (leased),
made, then deleted. A post carries the row's delivery key in its metadata; when a post may
have reached Slack without its answer reaching us (5xx, dropped connection, timeout), or the
row was claimed before by a sender that died, the DM (or thread) is searched for the key before
posting again. So a reply is posted once, even across a crash after the ack.

`OutboxSweeper` runs beside `reflect run`: at start (what a previous process left) and then
every few seconds, for rows whose sender died (lease run out) or that another process's lane
could not take in turn.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from bot.engine.people import Person
from bot.slack.delivery import cleanup
from bot.slack.delivery.delivery_keys import Sought
from bot.slack.delivery.gateway import installation_token, speaking_for
from bot.slack.delivery.poster import Unanswered
from bot.slack.parts import Parts
from bot.slack.storage import OutboxRow
from bot.slack.views.blocks import Post

log = logging.getLogger(__name__)

#: The metadata type that marks a reply posted from the outbox, with its delivery key.
METADATA_TYPE = "reflect_reply"
#: Posts tried within one claim when Slack gives no usable answer (looking in between).
TRIES = 3
#: Claims of one row before it is given up (Slack unavailable for that long).
MOST_CLAIMS = 12
#: How long to wait before a row Slack could not take is tried again, by claim count.
BACKOFF = (2.0, 5.0, 15.0, 30.0, 60.0)
#: How far before a row was written to look for its post in the DM.
LOOK_BACK = dt.timedelta(minutes=1)


def post_call(
    post: Post, *, channel: str | None, user_id: str | None, thread_ts: str | None
) -> dict[str, Any]:
    """An outbox row posting `post` in `channel` (in the thread `thread_ts`), or in the DM of
    `user_id`. The blocks are checked against Block Kit's limits here, before the step commits."""
    return {
        "kind": "post",
        "channel": channel,
        "user": user_id,
        "thread_ts": thread_ts,
        "text": post.text,
        "blocks": [block.to_dict() for block in post.blocks],
    }


def update_call(
    *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """An outbox row changing one of the bot's messages (e.g. a question's buttons giving way
    to the answer): made again after a crash, it does no harm."""
    return {"kind": "update", "channel": channel, "ts": ts, "text": text, "blocks": list(blocks)}


def clear_call(
    *, channel: str | None, user_id: str | None, prefixes: Sequence[str]
) -> dict[str, Any]:
    """An outbox row deleting the bot's messages whose block ids start with `prefixes` (a
    finished or stopped reflection's questions)."""
    return {"kind": "clear", "channel": channel, "user": user_id, "prefixes": list(prefixes)}


class OutboxSender:
    def __init__(self, parts: Parts, *, checkpoint: Callable[[str], None] | None = None) -> None:
        self.parts = parts
        #: Called at each step boundary with its name; tests raise here to simulate a crash.
        self.checkpoint = checkpoint or (lambda step: None)

    def drain(self, person: Person | None = None, *, most: int | None = None) -> int:
        """Deliver the person's rows (or anyone's), oldest first, until none is left that
        this sender may take now. Returns how many rows were done with."""
        done = 0
        while most is None or done < most:
            entry = self.parts.outbox.claim(now=self.parts.clock(), person=person)
            if entry is None:
                break
            self.checkpoint("claimed")
            self.deliver(entry)
            done += 1
        return done

    def deliver(self, entry: OutboxRow) -> None:
        """Make one claimed row's call; delete the row when done, or give it back for later.
        Installed over OAuth, outside a request (a restart's left-overs), the call speaks with
        the token of the installation the row was written through (a row from before that
        was kept: of the person's workspace)."""
        payload = entry.payload
        with self._speaking_for(payload.get("installation") or payload.get("workspace")):
            self._deliver(entry)

    def _speaking_for(self, installation: Any) -> contextlib.AbstractContextManager[None]:
        token_for = self.parts.token_for
        if token_for is None or not installation or installation_token() is not None:
            return contextlib.nullcontext()
        return speaking_for(token_for(str(installation)))

    def _deliver(self, entry: OutboxRow) -> None:
        payload = entry.payload
        kind = payload.get("kind")
        if entry.attempts > MOST_CLAIMS:
            log.error("a reply could not be delivered after %d tries; dropped", MOST_CLAIMS)
            finished = True
        elif kind == "post":
            finished = self._post(entry, payload)
        elif kind == "clear":
            finished = self._clear(payload)
        elif kind == "update":
            finished = self._update(payload)
        else:  # unreadable (the person was erased meanwhile) or unknown: nothing to do
            finished = True
        if finished:
            self.parts.outbox.delivered(entry)
            self.checkpoint("delivered")
            return
        wait = BACKOFF[min(entry.attempts, len(BACKOFF)) - 1]
        retry_at = self.parts.clock() + dt.timedelta(seconds=wait)
        self.parts.outbox.release(entry, retry_at=retry_at)

    # ------------------------------------------------------------------ the calls

    def _post(self, entry: OutboxRow, payload: dict[str, Any]) -> bool:
        """Post once. True when done with (posted, found posted, or refused for good)."""
        poster = self.parts.delivery
        user_id = payload.get("user")
        channel = payload.get("channel") or (
            poster.dm_channel(user_id=user_id) if user_id else None
        )
        if not channel:
            return poster.is_gone(user_id=user_id) or not user_id  # else: try again later
        thread_ts = payload.get("thread_ts")
        sought = Sought(
            channel=channel,
            event_type=METADATA_TYPE,
            key=entry.delivery,
            since=(entry.created_at - LOOK_BACK).timestamp(),
            thread_ts=thread_ts,
        )

        def found() -> bool:
            return poster.find_delivered(sought) is not None

        try:
            if entry.in_doubt and found():
                return True
            for _ in range(TRIES):
                self.checkpoint("posting")
                sent = poster.post_once(
                    channel=channel,
                    text=str(payload.get("text") or ""),
                    blocks=payload.get("blocks") or [],
                    event_type=METADATA_TYPE,
                    key=entry.delivery,
                    thread_ts=thread_ts,
                )
                if sent.ts is not None or sent.refused is not None:
                    self.checkpoint("posted")
                    return True
                if found():  # no answer: it may be in Slack all the same
                    return True
        except Unanswered:
            pass
        return False

    def _update(self, payload: dict[str, Any]) -> bool:
        """Change the message (a refusal, e.g. message_not_found, is logged and dropped)."""
        self.parts.delivery.update(
            channel=str(payload.get("channel")),
            ts=str(payload.get("ts")),
            text=str(payload.get("text") or ""),
            blocks=payload.get("blocks") or [],
        )
        return True

    def _clear(self, payload: dict[str, Any]) -> bool:
        cleanup.clear_messages(
            self.parts,
            channel=payload.get("channel"),
            user_id=payload.get("user"),
            prefixes=tuple(payload.get("prefixes") or ()),
        )
        return True


class OutboxSweeper:
    """Delivers what no lane is delivering: rows left by a process that stopped or died, and
    rows whose person's turn another process held. Once at start, then every `every` seconds."""

    def __init__(self, sender: OutboxSender, *, every: float = 5.0) -> None:
        self.sender = sender
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        if not self.sender.parts.outbox.pending():  # a read: no write lock taken for nothing
            return 0
        done = self.sender.drain()
        if done:
            log.info("outbox: %d left-over replies delivered", done)
        return done

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="reflect-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception as error:  # keep the bot up; try again shortly
                log.error("outbox delivery failed: %s", type(error).__name__)
            if self._stop.wait(self.every):
                return
