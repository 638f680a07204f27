"""`reflect chat`: the same flows and engine as Slack, in a terminal.

Choices are numbered, scales shown as a row; Ctrl-C (or the end of piped input) pauses, and
the next `reflect chat` offers to resume. Every line typed goes through the safety screen:
answers through the engine's `receive`, the flow picker and the resume prompt through
`screen_input`, and a safety question they lead to is answered before the prompt comes back.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.engine import messages
from bot.engine.conversation import Conversations
from bot.engine.people import Person
from bot.engine.replies import FlowOffer, Reply, Summary
from bot.terminal.render import render

Read = Callable[[str], str]
Write = Callable[[str], None]

PROMPT = "> "


def chat(
    *,
    conversations: Conversations,
    person: Person,
    flow_id: str | None,
    read: Read,
    write: Write,
) -> int:
    """Walk one flow with the person at the keyboard. Returns an exit status."""
    try:
        replies = _opening(
            conversations=conversations, person=person, flow_id=flow_id, read=read, write=write
        )
        if replies is None:
            return 0
        _show(replies, write)
        while conversations.current(person) is not None or conversations.safety_question_waiting(
            person
        ):
            line = read(PROMPT)
            replies = conversations.receive(person, line)
            _show(replies, write)
            if any(isinstance(reply, Summary) for reply in replies):
                return 0
        return 0
    except (KeyboardInterrupt, EOFError):
        if conversations.current(person) is not None:
            conversations.pause(person)
            write("\n" + messages.text("terminal.paused"))
        else:
            write("")
        return 0


def _screened_reader(
    *, conversations: Conversations, person: Person, read: Read, write: Write
) -> Read:
    """`read`, with every line screened first. When the screen shows the crisis card or asks
    the check-in question, the person answers it before being asked `prompt` again."""

    def screened_read(prompt: str) -> str:
        while True:
            line = read(prompt)
            screened = conversations.screen_input(person, line)
            _show(screened.replies, write)
            if screened.go_on:
                return line
            while conversations.safety_question_waiting(person):
                _show(conversations.receive(person, read(PROMPT)), write)

    return screened_read


def _opening(
    *, conversations: Conversations, person: Person, flow_id: str | None, read: Read, write: Write
) -> list[Reply] | None:
    read = _screened_reader(conversations=conversations, person=person, read=read, write=write)
    unfinished = conversations.in_progress(person)
    if flow_id is not None:
        if unfinished is not None and unfinished.flow_id == flow_id:
            return conversations.resume(person)
        return conversations.start(person, flow_id)
    if unfinished is not None:
        answer = read(messages.text("terminal.resume_question", title=unfinished.title) + " ")
        if answer.strip().lower() in ("", "y", "yes"):
            return conversations.resume(person)
    offer = conversations.offer(person)[0]
    assert isinstance(offer, FlowOffer)
    write(render(offer))
    while True:
        choice = read(messages.text("terminal.choose_flow", count=len(offer.flows)) + " ").strip()
        if not choice:
            return conversations.start(person, offer.flows[0].value)
        if choice.isdigit() and 1 <= int(choice) <= len(offer.flows):
            return conversations.start(person, offer.flows[int(choice) - 1].value)
        flow = conversations.library.find(choice)
        if flow is not None:
            return conversations.start(person, flow.id)
        if choice.lower() in messages.words("stop"):
            return None
        if choice.lower() in messages.words("follow_up_off") | messages.words("follow_up_on"):
            on = choice.lower() in messages.words("follow_up_on")
            for reply in conversations.set_follow_up(person, wanted=on):
                write(render(reply))
            continue
        write(messages.text("terminal.unknown_choice", count=len(offer.flows)))


def _show(replies: list[Reply], write: Write) -> None:
    for reply in replies:
        write(render(reply))
        write("")
