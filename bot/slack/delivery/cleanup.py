"""When a reflection ends, the bot deletes its own messages that asked its questions.

A question message can quote the leader's answers (a prompt may use an earlier answer; a
clicked answer is shown under its question), so once the reflection is saved those messages
go (chat.delete), found in the DM's history by their block ids, which name the owner and the
flow. Crisis support is always posted on its own and is never deleted. What the leader typed
stays: a bot cannot delete a person's messages, which is why the first-use agreement says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.engine.people import Person
from bot.engine.replies import Reply, Summary
from bot.slack.identity import owner_tag
from bot.slack.parts import Parts
from bot.slack.views.questions import PREFIX

log = logging.getLogger(__name__)

#: How far back in the DM to look: the bot's newest messages, far more than one reflection.
MOST_MESSAGES = 400


def question_prefixes(
    person: Person, *, replies: Sequence[Reply], stopped: str | None = None
) -> tuple[str, ...]:
    """The block id prefixes of the question messages of the flows these replies finish, and
    of the flow `stopped`, if one was (none: nothing to clear)."""
    flows = {reply.flow_id for reply in replies if isinstance(reply, Summary)}
    if stopped:
        flows.add(stopped)
    return tuple(f"{PREFIX}|{owner_tag(person)}|{flow_id}|" for flow_id in sorted(flows))


def clear_messages(
    parts: Parts,
    *,
    channel: str | None = None,
    user_id: str | None = None,
    prefixes: Sequence[str],
) -> None:
    """Delete the bot's messages with a block whose id starts with one of `prefixes`, in
    `channel` or the DM with `user_id`. Called after the replies are posted (from the outbox:
    doing it twice does no harm)."""
    if not prefixes:
        return
    target = channel or (parts.delivery.dm_channel(user_id=user_id) if user_id else None)
    if not target:
        return
    starts = tuple(prefixes)
    gone = 0
    for message in parts.delivery.own_messages(channel=target, most=MOST_MESSAGES):
        ids = [str(block.get("block_id") or "") for block in message.get("blocks") or []]
        if any(block_id.startswith(starts) for block_id in ids):
            gone += parts.delivery.delete(channel=target, ts=str(message.get("ts")))
    log.info("a finished reflection's questions were cleared: %d messages", gone)
