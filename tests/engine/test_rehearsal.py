"""Rehearsals: a flow's test conversations, played through the pure engine. A failure says
which input led the conversation somewhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.engine.authoring.loading import load_flow
from bot.engine.authoring.rehearsal import rehearse, rehearse_one
from bot.engine.flows import Flow, Rehearsal
from tests.conftest import energy_scale, flow_from

ROOT = Path(__file__).resolve().parents[2]


def branching(**extra: Any) -> Flow:
    """An info step first, a scale that branches, an optional step, and a summary."""
    return flow_from(
        {
            "steps": [
                {"id": "welcome", "kind": "info", "prompt": "A moment for you."},
                energy_scale(next=[{"if": "energy <= 2", "then": "restore"}, {"else": "work"}]),
                {"id": "restore", "kind": "text", "prompt": "What restores you?", "next": "done"},
                {"id": "work", "kind": "text", "prompt": "What is on at work?"},
                {"id": "done", "kind": "info", "prompt": "Thank you."},
                {"id": "next_step", "kind": "text", "prompt": "One small step?", "optional": True},
            ],
            "summary": "Energy {{ energy }}. {{ restore or work }}. {{ next_step or 'No step' }}.",
            **extra,
        }
    )


def play(flow: Flow, inputs: list[str], **expect: Any) -> tuple[str, ...]:
    result = rehearse_one(flow, Rehearsal(name="r", inputs=inputs, **expect))
    return result.failures


def test_a_rehearsal_that_matches_passes_with_info_steps_counted_as_shown() -> None:
    flow = branching()
    result = rehearse_one(
        flow,
        Rehearsal(
            name="low",
            inputs=["1", "Sleep", "Walk home"],
            expect_steps=["welcome", "energy", "restore", "done", "next_step"],
            expect_summary=["Energy 1", "Sleep", "Walk home"],
        ),
    )
    assert result.passed and result.failures == ()
    assert [(s.step_id, s.after_input) for s in result.shown] == [
        ("welcome", 0),
        ("energy", 0),
        ("restore", 1),
        ("done", 2),
        ("next_step", 2),
    ]
    assert result.summary == "Energy 1 of 5 (empty). Sleep. Walk home."


def test_the_other_branch_and_skip() -> None:
    failures = play(
        branching(),
        ["full", "Reports", "skip"],
        expect_steps=["welcome", "energy", "work", "done", "next_step"],
        expect_summary=["Energy 5", "Reports", "No step"],
    )
    assert failures == ()


def test_a_divergence_names_the_input_that_led_elsewhere() -> None:
    (failure,) = play(
        branching(),
        ["4", "Reports", "Walk home"],
        expect_steps=["welcome", "energy", "restore", "done", "next_step"],
    )
    assert failure.startswith(
        "After input 1 ('4') the flow showed 'work', but the rehearsal expects 'restore' "
        "(step 3 of expect_steps)"
    )
    assert "steps shown: welcome, energy, work, done, next_step" in failure


def test_an_answer_the_step_cannot_take_is_asked_again_and_the_reason_given() -> None:
    (failure,) = play(
        branching(),
        ["9", "1", "Sleep", "skip"],
        expect_steps=["welcome", "energy", "restore", "done", "next_step"],
    )
    assert failure.startswith("After input 1 ('9') (it was not taken: ")
    assert "the flow showed 'energy', but the rehearsal expects 'restore'" in failure


def test_back_asks_the_previous_step_again_and_is_listed() -> None:
    failures = play(
        branching(),
        ["1", "back", "5", "Reports", "skip"],
        expect_steps=["welcome", "energy", "restore", "energy", "work", "done", "next_step"],
        expect_summary=["Energy 5 of 5 (full). Reports."],
    )
    assert failures == ()


def test_a_flow_that_ends_before_the_inputs_do() -> None:
    (failure,) = play(branching(), ["1", "Sleep", "Walk", "Extra", "More"])
    assert failure == (
        "the flow ended after input 3 ('Walk'), but 2 more inputs follow, "
        "starting with input 4 ('Extra')"
    )


def test_a_rehearsal_is_a_whole_conversation() -> None:
    (failure,) = play(branching(), ["1"])
    assert "has not ended after the last input; it is waiting at step 'restore'" in failure


def test_too_few_and_too_many_expected_steps() -> None:
    (short,) = play(branching(), ["1", "Sleep", "skip"], expect_steps=["welcome", "energy"])
    assert short.startswith("After input 1 ('1') the flow showed 'restore', after the last step")
    (long,) = play(
        branching(),
        ["1", "Sleep", "skip"],
        expect_steps=["welcome", "energy", "restore", "done", "next_step", "more"],
    )
    assert "the flow showed only 5 steps; expect_steps goes on with 'more'" in long


def test_a_missing_summary_fragment_quotes_the_summary() -> None:
    (failure,) = play(branching(), ["1", "Sleep", "skip"], expect_summary=["Energy 2"])
    assert failure == (
        "the summary does not contain 'Energy 2'; it reads: "
        "'Energy 1 of 5 (empty). Sleep. No step.'"
    )


def test_an_engine_failure_is_reported_not_raised() -> None:
    flow = branching(summary="{{ energy + 'x' }}")
    (failure,) = play(flow, ["1", "Sleep", "skip"])
    assert failure.startswith("the engine failed at input 3 ('skip'): TypeError")


def test_an_engine_failure_at_the_start_is_reported() -> None:
    flow = branching(intro="{{ first_name + 1 }}")
    (failure,) = play(flow, ["1"])
    assert failure.startswith("the engine failed at the start: TypeError")


def test_rehearse_plays_every_rehearsal_a_flow_ships() -> None:
    flow = branching(
        tests=[
            {"name": "passes", "inputs": ["1", "Sleep", "skip"]},
            {"name": "fails", "inputs": ["1"]},
        ]
    )
    results = rehearse(flow)
    assert [(r.flow_id, r.name, r.passed) for r in results] == [
        ("sample", "passes", True),
        ("sample", "fails", False),
    ]


@pytest.mark.parametrize(
    "path", sorted((ROOT / "flows").glob("*.yaml")), ids=lambda path: path.name
)
def test_the_rehearsals_of_every_shipped_flow_pass(path: Path) -> None:
    flow = load_flow(path)
    failed = [f"{r.name}: {failure}" for r in rehearse(flow) for failure in r.failures]
    assert failed == []
