"""Rehearsals: the test conversations a flow ships with (`tests:` in its YAML), played through
the pure engine.

    tests:
      - name: a heavy day, answered in full
        inputs: ["A difficult conversation", "1", "Shaken", "2", "Replaying it", "Walk home"]
        expect_steps: [what_happened, weight, landed, need, put_down, next_step]
        expect_summary: ["Talk it through with someone"]

How a rehearsal is played:
- Each input is typed as a leader would type it. "skip" and "back" (and the other words
  messages.yaml lists for them) skip the step or go back, as in a real conversation; every
  other input is an answer. Pause, stop and help are not rehearsed.
- `expect_steps` lists every step the leader is shown, in order: each question asked,
  including a question asked again (after "back", or after an answer it could not take), and
  each info step as it is shown.
- A rehearsal is a whole conversation: after the last input the flow must have ended, and
  every `expect_summary` fragment must appear in its summary.
- The clock is fixed (a Monday, 18:30 UTC, so `part_of_day` is "evening") and no first name
  is known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.engine import messages, sessions
from bot.engine.flows import Flow, InfoStep, Rehearsal
from bot.engine.replies import Question

#: When every rehearsal takes place.
REHEARSAL_TIME = dt.datetime(2026, 1, 5, 18, 30, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Shown:
    """A step the leader was shown, and the input that led to it (0: the start)."""

    step_id: str
    after_input: int
    refused: str | None = None


@dataclass(frozen=True)
class RehearsalResult:
    flow_id: str
    name: str
    failures: tuple[str, ...]
    shown: tuple[Shown, ...]
    summary: str | None

    @property
    def passed(self) -> bool:
        return not self.failures


def rehearse(flow: Flow) -> list[RehearsalResult]:
    """Play every rehearsal the flow ships with."""
    return [rehearse_one(flow, rehearsal) for rehearsal in flow.tests]


def rehearse_one(flow: Flow, rehearsal: Rehearsal) -> RehearsalResult:
    shown: list[Shown] = []
    failures: list[str] = []
    turn: sessions.Turn | None = None
    inputs = rehearsal.inputs
    playing = 0  # the input being played; 0 while starting
    try:
        turn = sessions.start(flow, now=REHEARSAL_TIME)
        shown += _shown(flow, turn, before=(), after_input=0)
        for number, text in enumerate(inputs, start=1):
            playing = number
            if turn.finished:
                left = len(inputs) - number + 1
                failures.append(
                    f"the flow ended after input {number - 1} ({inputs[number - 2]!r}), "
                    f"but {left} more input{'s follow' if left > 1 else ' follows'}, starting "
                    f"with input {number} ({text!r})"
                )
                break
            before = turn.session.path
            turn = _play(flow, turn.session, text)
            shown += _shown(flow, turn, before=before, after_input=number)
    except Exception as error:  # a rehearsal reports what broke; it never stops the others
        what = f"{type(error).__name__}: {error}"
        failures.append(
            f"the engine failed at input {playing} ({inputs[playing - 1]!r}): {what}"
            if playing
            else f"the engine failed at the start: {what}"
        )
        turn = None

    if rehearsal.expect_steps is not None and turn is not None:
        failures += _compare_steps(rehearsal, shown)
    summary = turn.summary if turn is not None and turn.finished else None
    if turn is not None and not turn.finished and not failures:
        failures.append(
            f"the flow has not ended after the last input; it is waiting at step "
            f"'{turn.session.step_id}' (a rehearsal is a whole conversation)"
        )
    if turn is not None and turn.finished:
        for fragment in rehearsal.expect_summary:
            if fragment not in (summary or ""):
                failures.append(f"the summary does not contain {fragment!r}; it reads: {summary!r}")
    return RehearsalResult(flow.id, rehearsal.name, tuple(failures), tuple(shown), summary)


def _play(flow: Flow, session: sessions.Session, text: str) -> sessions.Turn:
    word = _normalise(text)
    if word in messages.words("skip"):
        return sessions.skip(
            flow, session, now=REHEARSAL_TIME, reason=messages.text("reask.not_optional")
        )
    if word in messages.words("back"):
        return sessions.back(
            flow, session, now=REHEARSAL_TIME, reason=messages.text("reask.no_back")
        )
    return sessions.answer(flow, session, text, now=REHEARSAL_TIME)


def _normalise(text: str) -> str:
    # As bot.engine.conversation reads command words.
    return " ".join(text.lower().replace("’", "'").split()).strip(" .!")


def _shown(
    flow: Flow, turn: sessions.Turn, *, before: tuple[str, ...], after_input: int
) -> list[Shown]:
    """The steps a turn showed: info steps passed on the way (they join the path as they are
    shown), then the question it asks."""
    path = turn.session.path
    passed = path[len(before) :] if path[: len(before)] == before else ()
    shown = [
        Shown(step_id, after_input)
        for step_id in passed
        if isinstance(flow.step(step_id), InfoStep)
    ]
    shown += [
        Shown(reply.step_id, after_input, reply.reason)
        for reply in turn.replies
        if isinstance(reply, Question)
    ]
    return shown


def _compare_steps(rehearsal: Rehearsal, shown: list[Shown]) -> list[str]:
    expected = rehearsal.expect_steps or []
    actual = [s.step_id for s in shown]
    if actual == expected:
        return []
    trail = f" (steps shown: {', '.join(actual) or 'none'})"
    for number, (want, got) in enumerate(zip(expected, shown, strict=False)):
        if want != got.step_id:
            return [
                f"{_after(got, rehearsal)} the flow showed '{got.step_id}', but the "
                f"rehearsal expects '{want}' (step {number + 1} of expect_steps){trail}"
            ]
    if len(actual) < len(expected):
        last = shown[-1] if shown else None
        where = _after(last, rehearsal) if last else "At the start"
        return [
            f"the flow showed only {len(actual)} steps; expect_steps goes on with "
            f"'{expected[len(actual)]}'. {where} the flow showed '{actual[-1] if actual else ''}'"
            f"{trail}"
        ]
    extra = shown[len(expected)]
    return [
        f"{_after(extra, rehearsal)} the flow showed '{extra.step_id}', after the last step "
        f"expect_steps names{trail}"
    ]


def _after(shown: Shown, rehearsal: Rehearsal) -> str:
    if shown.after_input == 0:
        return "At the start"
    text = rehearsal.inputs[shown.after_input - 1]
    note = f" (it was not taken: {shown.refused})" if shown.refused else ""
    return f"After input {shown.after_input} ({text!r}){note}"
