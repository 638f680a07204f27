"""Pathological text of 50,000 characters (the shapes that make backtracking patterns slow:
long runs that almost match, repeated anchors with nothing after them) through redaction and
the safety screen. Both must finish each within a generous deadline: a quadratic pattern takes
several seconds on these, a linear one a fraction of a second. The figures themselves are
measured by `make bench` (bench/pathological.py), not here."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.safety import screen
from bot.store.redaction import redact
from tests.property.pathological import LENGTH, UNITS

pathological = st.builds(
    lambda units, tail: (
        ("".join(units) * (LENGTH // max(1, len("".join(units))) + 1))[:LENGTH] + tail
    ),
    st.lists(st.sampled_from(UNITS), min_size=1, max_size=3),
    st.sampled_from(["", "@", ">", ".com", "x", "0"]),
)

#: A deadline that only a super-linear pattern misses, even on a loaded two-core machine.
generous = settings(
    max_examples=25,
    deadline=dt.timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@generous
@given(text=pathological)
def test_redaction_of_pathological_text_finishes(text: str) -> None:
    redacted = redact(text)
    assert redact(redacted) == redacted  # what is left holds nothing more to redact


@generous
@given(text=pathological)
def test_the_safety_screen_of_pathological_text_finishes(text: str) -> None:
    screen(text)


def test_the_e_mail_pattern_that_was_quadratic() -> None:
    """`a.a.a.…` with no `@`: every start used to rescan the whole run."""
    text = "a." * (LENGTH // 2)
    assert redact(text) == text
