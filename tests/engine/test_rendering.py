"""Rendering templates: sandboxed (no reaching into Python internals, nothing changed), strict
about unknown names, and given the earlier answers with option labels in place of values."""

from __future__ import annotations

import datetime as dt

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from bot.engine import messages
from bot.engine.people import Person
from bot.engine.rendering import CONTEXT_NAMES, part_of_day, prompt_context, render, time_words
from tests.conftest import flow_from, options_step

TIME_NAMES = ("this_time", "before_rest", "next_day")


@pytest.mark.parametrize(
    "template",
    [
        "{{ note.__class__ }}",
        "{{ note.__class__.__mro__[1].__subclasses__() }}",
        "{{ feelings.__init__.__globals__ }}",
        "{{ feelings.append('x') }}",  # immutable: lists cannot be changed
        "{{ cycler.__init__.__globals__ }}",  # a global the environment offers
        "{{ note.format.__globals__ }}",
    ],
)
def test_the_sandbox_blocks_internals_and_changes(template: str) -> None:
    context = {"note": "text", "feelings": ["stuck"]}
    with pytest.raises(SecurityError):
        render(template, context)
    assert context == {"note": "text", "feelings": ["stuck"]}


def test_an_unknown_name_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(UndefinedError):
        render("Hello {{ frist_name }}", {"first_name": "Priya"})


def test_none_is_a_value_templates_can_test() -> None:
    template = "{% if next_step %}Next: {{ next_step }}{% else %}No next step{% endif %}"
    assert render(template, {"next_step": None}) == "No next step"
    assert render(template, {"next_step": "Walk home"}) == "Next: Walk home"


def test_filters_bullets_and_listing() -> None:
    assert render("{{ x | bullets }}", {"x": ["a", "b"]}) == "• a\n• b"
    assert render("{{ x | bullets }}", {"x": "a"}) == "• a"
    assert render("[{{ x | bullets }}]", {"x": None}) == "[]"
    assert render("{{ x | listing }}", {"x": ["a", "b", "c"]}) == "a, b and c"
    assert render("{{ x | listing }}", {"x": ["a"]}) == "a"
    assert render("{{ x | listing }}", {"x": "just this"}) == "just this"


def test_blank_lines_left_by_skipped_parts_are_folded() -> None:
    template = "One\n{% if a %}A{% endif %}\n\n\n\nTwo\n"
    assert render(template, {"a": None}) == "One\n\nTwo"


@pytest.mark.parametrize(
    ("hour", "expected"),
    [(0, "morning"), (11, "morning"), (12, "afternoon"), (17, "afternoon"), (18, "evening")],
)
def test_part_of_day(hour: int, expected: str) -> None:
    assert part_of_day(dt.datetime(2026, 1, 5, hour, 59)) == expected


def test_the_context_has_every_step_labels_for_choices_and_the_small_context() -> None:
    flow = flow_from(
        {
            "title": "Sample",
            "steps": [
                options_step(
                    "need",
                    "choice",
                    "Need?",
                    {"rest": "Rest and switch off", "talk": "Talk it through"},
                ),
                options_step(
                    "feelings", "multi", "Feelings?", {"tired": "Tired", "stuck": "Stuck"}
                ),
                {"id": "note", "kind": "text", "prompt": "Note?", "optional": True},
            ],
        }
    )
    now = dt.datetime(2026, 1, 5, 9, 0)
    context = prompt_context(
        flow, {"need": "talk", "feelings": ["stuck", "tired"]}, Person("t:1", first_name="Sam"), now
    )
    assert context == {
        "need": "Talk it through",
        "feelings": ["Stuck", "Tired"],
        "note": None,
        "first_name": "Sam",
        "flow_title": "Sample",
        "part_of_day": "morning",
        **{name: messages.text(f"time_of_day.{name}.morning") for name in TIME_NAMES},
        "last_next_step": None,
        "last_next_step_when": None,
        "since_last_supervision": [],
    }
    assert set(context) - {"need", "feelings", "note"} == CONTEXT_NAMES


def test_a_scale_answer_reads_as_its_number_in_conditions_and_with_its_word_in_text() -> None:
    flow = flow_from(
        {
            "steps": [
                {
                    "id": "weight",
                    "kind": "scale",
                    "prompt": "?",
                    "heavy": "max",
                    "labels": {"min": "light", "max": "very heavy"},
                    "points": ["light", "a bit", "some", "heavy", "very heavy"],
                }
            ]
        }
    )
    context = prompt_context(flow, {"weight": 4}, None, dt.datetime(2026, 1, 5, 9, 0))
    assert context["weight"] == 4 and context["weight"] >= 4
    expected = messages.text("rating.with_word", value=4, max=5, word="heavy")
    assert render("{{ weight }}", context) == expected


@pytest.mark.parametrize(
    ("hour", "period"),
    [(8, "morning"), (14, "afternoon"), (19, "evening"), (23, "night"), (3, "night")],
)
def test_time_of_day_words_follow_the_hour(hour: int, period: str) -> None:
    words = time_words(dt.datetime(2026, 1, 5, hour, 0))
    assert words == {name: messages.text(f"time_of_day.{name}.{period}") for name in TIME_NAMES}
