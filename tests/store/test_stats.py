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
    OTHER_VALUES,
    Activity,
    EventFact,
    Figure,
    ReflectionFact,
    ScaleFact,
    _Cell,
    aggregate,
    publishable,
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


def _everyone(cells: dict[str, _Cell]) -> set[str]:
    return set().union(*(cell.people for cell in cells.values()))


def test_cells_of_k_with_k_others_are_published() -> None:
    cells = _cells(a=5, b=7, c=0)
    assert publishable(cells, everyone=_everyone(cells), k=5) == {"a", "b"}


def test_a_small_cell_takes_the_smallest_published_one_into_other_values() -> None:
    # "a" (2 people) alone in "other values" would say two people answered a.
    cells = _cells(a=2, b=6, c=9)
    assert publishable(cells, everyone=_everyone(cells), k=5) == {"c"}


def test_a_cell_holding_everyone_but_a_few_is_not_published() -> None:
    # 9 of 11 answered "a": publishing it tells two colluders what everyone else said.
    cells = _cells(a=9, b=2)
    assert publishable(cells, everyone=_everyone(cells), k=5) == set()


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
        ("scale", OTHER_VALUES, 0),
    ]


def test_the_lone_low_score_cannot_be_worked_out_from_the_total() -> None:
    activity = _reflections("hard-day", 12)
    values = [1] + [3] * 5 + [4] * 6  # one person scored 1
    scales = [
        ScaleFact(f.id, "weight", v) for f, v in zip(activity.reflections, values, strict=True)
    ]
    figures = aggregate(Activity(activity.reflections, scales), min_group_size=5)
    shown = {f.value: f.shown(min_group_size=5) for f in figures if f.measure == "scale"}
    # "1" and "3" are merged: the row never says that somebody answered 1.
    assert shown == {"4": "6", OTHER_VALUES: "6"}


def test_skipped_answers_count_as_a_cell_of_their_own() -> None:
    activity = _reflections("hard-day", 8)
    scales = [ScaleFact(f.id, "weight", 3) for f in activity.reflections[:6]]  # two skipped
    figures = aggregate(Activity(activity.reflections, scales), min_group_size=5)
    shown = {f.value: f.shown(min_group_size=5) for f in figures if f.measure == "scale"}
    # 6 of 8 answered 3: published, it would tell two colluders that everyone else did.
    assert shown == {OTHER_VALUES: "8"}


def test_followed_nudges_are_withheld_when_the_rest_would_single_people_out() -> None:
    shown = [EventFact(f"p{n}", "nudge_shown", "hard-day", MONDAY) for n in range(8)]
    followed = [EventFact(f"p{n}", "nudge_followed", "hard-day", MONDAY) for n in range(6)]
    followed += followed  # a second click by the same people counts no one twice
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


def _truth(activity: Activity) -> dict[tuple[str, str], dict[str, dict[str, set[str]]]]:
    """(week, flow) -> step "weight" -> value -> the people who gave it (not answered too)."""
    score = {s.reflection_id: s.value for s in activity.scales}
    found: dict[tuple[str, str], dict[str, dict[str, set[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    for r in activity.reflections:
        value = score.get(r.id)
        shown = NOT_ANSWERED if value is None else str(value)
        found[(stats.iso_week(r.finished_at), r.flow_id)]["weight"][shown].add(r.pseudonym)
    return found


@settings(max_examples=120, deadline=None)
@given(_activities(), st.data())
def test_k_minus_one_colluders_learn_no_one_elses_answer(
    case: tuple[Activity, int], data: st.DataObject
) -> None:
    """Any k-1 people who pool what they know of their own answers still cannot tell, from
    any published row, what any other one person answered: for every published value at
    least one non-colluder gave it and at least one did not."""
    activity, k = case
    figures = aggregate(activity, min_group_size=k)
    truth = _truth(activity)
    for f in figures:
        if f.measure != "scale" or f.value == OTHER_VALUES:
            continue
        cells = truth[(f.week, f.flow_id)]["weight"]
        everyone = set().union(*cells.values())
        colluders = set(data.draw(st.permutations(sorted(everyone))))
        colluders = set(sorted(colluders)[: k - 1])
        others = everyone - colluders
        gave = cells[str(f.value)] & others
        assert gave, f  # not "nobody else gave it"
        assert others - gave, f  # not "everyone else gave it"
    for f in figures:
        if f.measure == "nudge_followed" and f.count is not None:
            assert f.count >= k  # and k who were shown it did not follow (below)


@settings(max_examples=150, deadline=None)
@given(_activities())
def test_withheld_values_are_merged_so_no_row_says_someone_gave_them(
    case: tuple[Activity, int],
) -> None:
    activity, k = case
    figures = aggregate(activity, min_group_size=k)
    truth = _truth(activity)
    rows: dict[tuple[str, str], list[Figure]] = defaultdict(list)
    for f in figures:
        if f.measure == "scale":
            rows[(f.week, f.flow_id)].append(f)
            assert f.withheld is None and f.count is not None  # no "withheld" row exists
    for group, found in rows.items():
        cells = truth[group]["weight"]
        everyone = set().union(*cells.values())
        assert [f.value for f in found].count(OTHER_VALUES) == 1
        merged = set().union(
            *(people for value, people in cells.items() if value not in {f.value for f in found})
        )
        # The merged row is empty, everyone, or a group of k that leaves k out.
        assert (
            not merged or merged == everyone or (len(merged) >= k and len(everyone - merged) >= k)
        )
        total = next(
            f.count for f in figures if (f.week, f.flow_id, f.measure) == (*group, "reflections")
        )
        assert sum(f.count or 0 for f in found) == total  # "other values" is the rest


@settings(max_examples=100, deadline=None)
@given(
    k=st.integers(min_value=2, max_value=6),
    people=st.integers(min_value=2, max_value=30),
    value=st.integers(min_value=1, max_value=5),
)
def test_a_cell_where_everyone_gave_the_same_answer_is_never_published(
    k: int, people: int, value: int
) -> None:
    reflections = [ReflectionFact(f"r{n}", f"p{n}", "hard-day", MONDAY) for n in range(people)]
    scales = [ScaleFact(r.id, "weight", value) for r in reflections]
    events = [
        EventFact(r.pseudonym, e, "hard-day", MONDAY)
        for r in reflections
        for e in ("nudge_shown", "nudge_followed")
    ]
    figures = aggregate(Activity(reflections, scales, events), min_group_size=k)
    assert all(f.value != str(value) for f in figures)
    followed = [f for f in figures if f.measure == "nudge_followed"]
    assert all(f.count is None for f in followed)  # everyone followed: not published


@settings(max_examples=100, deadline=None)
@given(_activities(), st.integers(min_value=1, max_value=4), st.integers(min_value=1, max_value=4))
def test_differencing_two_reports_reveals_nothing_new(
    case: tuple[Activity, int], weeks_a: int, weeks_b: int
) -> None:
    """Two reports over different spans agree on every week they share: a week's figures
    depend on that week alone, so subtracting one report from another isolates no one."""
    activity, k = case
    now = MONDAY + dt.timedelta(days=21)

    class Source:
        def activity(self, *, since: dt.datetime, until: dt.datetime) -> Activity:
            keep = {r.id for r in activity.reflections if since <= r.finished_at < until}
            return Activity(
                [r for r in activity.reflections if r.id in keep],
                [s for s in activity.scales if s.reflection_id in keep],
                [e for e in activity.events if since <= e.at < until],
            )

    one = stats.report(Source(), weeks=weeks_a, min_group_size=k, now=now)
    two = stats.report(Source(), weeks=weeks_b, min_group_size=k, now=now)
    shared = set(one.weeks) & set(two.weeks)
    assert [f for f in one.figures if f.week in shared] == [
        f for f in two.figures if f.week in shared
    ]


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
        ("scale", OTHER_VALUES, "6"),
        ("nudge_shown", None, "6"),
        ("nudge_followed", None, "fewer than 5"),
    ]
    assert "private words" not in repr(rows) and "signpost" not in repr(rows)
