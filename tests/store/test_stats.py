"""Aggregates: only groups of at least K people, and nothing recoverable by differencing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.people import Person
from bot.store import stats
from bot.store.sqlite import SqliteStore
from bot.store.stats import (
    NOT_ANSWERED,
    Activity,
    EventFact,
    Figure,
    ReflectionFact,
    ScaleFact,
    _Cell,
    aggregate,
    protect,
    weeks_window,
)
from tests.store.conftest import SECRET, reflection

MONDAY = dt.datetime(2026, 11, 9, 9, 0, tzinfo=dt.UTC)  # ISO week 2026-W46
WEEK = "2026-W46"


def _cells(**people_per_value: int) -> dict[str, _Cell]:
    cells: dict[str, _Cell] = {}
    for value, people in people_per_value.items():
        cell = _Cell()
        for n in range(people):
            cell.add(f"{value}-{n}")
        cells[value] = cell
    return cells


def test_no_small_cell_means_nothing_withheld() -> None:
    assert protect(_cells(a=5, b=7, c=0), k=5) == {}


def test_one_small_cell_takes_the_smallest_other_with_it() -> None:
    withheld = protect(_cells(a=2, b=6, c=9), k=5)
    assert withheld == {"a": "fewer-than-k", "b": "differencing"}


def test_withheld_cells_must_together_cover_k_people() -> None:
    # 1 + 2 people withheld would let a reader work out "3 people" from the total.
    withheld = protect(_cells(a=1, b=2, c=6, d=8), k=5)
    assert withheld == {"a": "fewer-than-k", "b": "fewer-than-k", "c": "differencing"}


def _reflections(flow: str, people: int, *, at: dt.datetime = MONDAY, each: int = 1) -> Activity:
    facts = [
        ReflectionFact(id=f"{flow}-{p}-{n}", pseudonym=f"p{p}", flow_id=flow, finished_at=at)
        for p in range(people)
        for n in range(each)
    ]
    return Activity(reflections=facts)


def test_a_group_under_k_shows_only_that_it_is_small() -> None:
    activity = _reflections("gibbs", 4, each=3)
    scales = [ScaleFact(f.id, "energy", 1) for f in activity.reflections]
    figures = aggregate(Activity(activity.reflections, scales), min_group_size=5)
    assert figures == [Figure(WEEK, "gibbs", "reflections", None, withheld="fewer-than-k")]
    assert figures[0].shown(min_group_size=5) == "fewer than 5"


def test_a_group_of_k_shows_counts_and_distribution() -> None:
    activity = _reflections("hard-day", 10)
    scales = [
        ScaleFact(f.id, "weight", 2 if n < 5 else 4) for n, f in enumerate(activity.reflections)
    ]
    figures = aggregate(Activity(activity.reflections, scales), min_group_size=5)
    assert [(f.measure, f.value, f.count) for f in figures] == [
        ("reflections", None, 10),
        ("scale", "2", 5),
        ("scale", "4", 5),
    ]


def test_the_lone_low_score_cannot_be_worked_out_from_the_total() -> None:
    activity = _reflections("hard-day", 12)
    values = [1] + [3] * 5 + [4] * 6  # one person scored 1
    scales = [
        ScaleFact(f.id, "weight", v) for f, v in zip(activity.reflections, values, strict=True)
    ]
    figures = aggregate(Activity(activity.reflections, scales), min_group_size=5)
    shown = {f.value: f.shown(min_group_size=5) for f in figures if f.measure == "scale"}
    assert shown == {"1": "fewer than 5", "3": "suppressed", "4": "6"}


def test_skipped_answers_count_as_a_cell_of_their_own() -> None:
    activity = _reflections("hard-day", 8)
    scales = [ScaleFact(f.id, "weight", 3) for f in activity.reflections[:6]]  # two skipped
    figures = aggregate(Activity(activity.reflections, scales), min_group_size=5)
    shown = {f.value: f.shown(min_group_size=5) for f in figures if f.measure == "scale"}
    assert shown == {"3": "suppressed", NOT_ANSWERED: "fewer than 5"}


def test_followed_nudges_are_withheld_when_the_rest_would_single_people_out() -> None:
    shown = [EventFact(f"p{n}", "nudge_shown", "hard-day", MONDAY) for n in range(8)]
    followed = [EventFact(f"p{n}", "nudge_followed", "hard-day", MONDAY) for n in range(6)]
    figures = aggregate(Activity(events=shown + followed), min_group_size=5)
    assert [(f.measure, f.count, f.withheld) for f in figures] == [
        ("nudge_shown", 8, None),
        ("nudge_followed", None, "differencing"),  # 8 - 6 = the 2 who did not
    ]
    enough = [EventFact(f"p{n}", "nudge_shown", "hard-day", MONDAY) for n in range(11)]
    figures = aggregate(Activity(events=enough + followed), min_group_size=5)
    assert [(f.measure, f.count) for f in figures] == [("nudge_shown", 11), ("nudge_followed", 6)]


def test_only_complete_weeks_inside_the_retention_period_are_reported() -> None:
    wednesday = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
    since, until = weeks_window(now=wednesday, weeks=2)
    assert (since, until) == (
        dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 16, tzinfo=dt.UTC),
    )
    since, _ = weeks_window(now=wednesday, weeks=2, oldest=dt.datetime(2026, 11, 4, tzinfo=dt.UTC))
    assert since == dt.datetime(2026, 11, 9, tzinfo=dt.UTC)


_PEOPLE = [f"p{n}" for n in range(12)]


@st.composite
def _activities(draw: st.DrawFn) -> tuple[Activity, int]:
    k = draw(st.integers(min_value=2, max_value=6))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(_PEOPLE),
                st.sampled_from(["hard-day", "gibbs"]),
                st.integers(min_value=0, max_value=13),  # day offset: two weeks
                st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
                st.booleans(),
            ),
            max_size=60,
        )
    )
    reflections, scales, events = [], [], []
    for n, (who, flow, day, score, followed) in enumerate(rows):
        at = MONDAY + dt.timedelta(days=day)
        reflections.append(ReflectionFact(f"r{n}", who, flow, at))
        if score is not None:
            scales.append(ScaleFact(f"r{n}", "weight", score))
        events.append(EventFact(who, "nudge_shown", flow, at))
        if followed:
            events.append(EventFact(who, "nudge_followed", flow, at))
    return Activity(reflections, scales, events), k


@settings(max_examples=150, deadline=None)
@given(_activities())
def test_no_figure_under_k_and_no_differencing_leak(case: tuple[Activity, int]) -> None:
    activity, k = case
    figures = aggregate(activity, min_group_size=k)
    people: dict[tuple[str, str, str | None, str | None], set[str]] = defaultdict(set)
    counts: dict[tuple[str, str, str | None, str | None], int] = defaultdict(int)
    score = {s.reflection_id: s.value for s in activity.scales}
    for r in activity.reflections:
        week = stats.iso_week(r.finished_at)
        people[(week, r.flow_id, "reflections", None)].add(r.pseudonym)
        value = score.get(r.id)
        key: tuple[str, str, str, str | None] = (
            week,
            r.flow_id,
            "scale",
            NOT_ANSWERED if value is None else str(value),
        )
        people[key].add(r.pseudonym)
        counts[key] += 1
    for e in activity.events:
        people[(stats.iso_week(e.at), e.flow_id or "", e.event, None)].add(e.pseudonym)

    for f in figures:
        figure: tuple[str, str, str, str | None] = (f.week, f.flow_id, f.measure, f.value)
        if f.count:  # every published non-zero figure stands for at least k people
            assert len(people[figure]) >= k, f
    groups: dict[tuple[str, str], list[Figure]] = defaultdict(list)
    for f in figures:
        if f.measure == "scale":
            groups[(f.week, f.flow_id)].append(f)
    for (week, flow), cells in groups.items():
        (total,) = [
            f for f in figures if (f.week, f.flow_id, f.measure) == (week, flow, "reflections")
        ]
        assert total.count is not None  # details only appear under a published total
        withheld = [c for c in cells if c.withheld]
        # What a reader can work out is the sum of the withheld cells: it must not be one cell,
        # and it must stand for at least k people.
        assert total.count - sum(c.count or 0 for c in cells) == sum(
            counts[(week, flow, "scale", c.value)] for c in withheld
        )
        if withheld:
            assert len(withheld) >= 2
            hidden = set().union(*(people[(week, flow, "scale", c.value)] for c in withheld))
            assert len(hidden) >= k
    for f in figures:
        if f.measure == "nudge_followed" and f.count:
            shown = people[(f.week, f.flow_id, "nudge_shown", None)]
            rest = shown - people[(f.week, f.flow_id, "nudge_followed", None)]
            assert not rest or len(rest) >= k


def test_the_report_from_a_real_database(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "reflect.db", secret=SECRET)
    for n in range(6):
        person = Person(f"T1:U{n}")
        store.finish(person, reflection(at=MONDAY, scale=2 if n < 3 else 4, text="private words"))
        store.record(person, "nudge_shown", at=MONDAY, flow_id="hard-day")
        store.record(person, "signpost_shown", at=MONDAY)
        store.record(person, "nudge_firm_shown", at=MONDAY, flow_id="hard-day")
    # This week's activity is not reported until the week is over.
    store.finish(Person("T1:U0"), reflection(at=MONDAY + dt.timedelta(days=9)))
    report = stats.report(
        store, weeks=4, min_group_size=5, now=MONDAY + dt.timedelta(days=9, hours=1)
    )
    store.close()
    assert report.weeks == ("2026-W43", "2026-W44", "2026-W45", "2026-W46")
    rows = report.rows()
    assert {row["week"] for row in rows} == {WEEK}
    assert [(r["measure"], r["value"], r["shown"]) for r in rows] == [
        ("reflections", None, "6"),
        ("scale", "2", "fewer than 5"),
        ("scale", "4", "fewer than 5"),
        ("nudge_shown", None, "6"),
        ("nudge_followed", None, "0"),
    ]
    assert "private words" not in repr(rows) and "signpost" not in repr(rows)
