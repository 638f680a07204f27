"""Aggregates for organisations (`reflect stats`), safe to show a manager.

Per flow and per ISO week: how many reflections were finished, how the scale answers were
distributed, how many people were shown the supervisor suggestion and how many of them followed
it. Nothing else: never free text, never choices, never crisis support, never the firm
suggestion (which follows signposts and low scores, so counting it would hint at who is
struggling).

Disclosure control, in three rules (K is settings.min_group_size, default 5):

1. A group is reported only if at least K distinct people are in it. A (week, flow) with fewer
   people shows as "fewer than K" and nothing more.
2. A cell is published only if at least K people are in it *and* at least K people are not.
   The second half is what makes a cell where everyone gave the same answer disclosive (it
   would publish everyone's answer), and it is what defeats K-1 colluders: whatever they know
   of their own answers, at least one other person gave the published value and at least one
   did not. Every other value of a scale question (withheld, rare, or given by nobody) is
   merged into one row, "other values", whose count is the rest of the total; if that row
   holds 1..K-1 people, or all but fewer than K, the smallest published values join it until
   it does not (or everything is merged). So a withheld value never shows that somebody gave
   it, and an absent value never shows that nobody did. The supervisor suggestion is
   counted in people, not clicks: "followed" is published only if at least K people followed
   it and at least K who were shown it did not.
3. No totals across rows, and only complete weeks. There are no per-week or per-flow totals,
   and a week is reported only once it is over, and only while it is wholly inside the
   retention period, so running the report twice (or with another `--weeks`) cannot reveal one
   day's activity or what a purge took away: the figures for a week depend on that week alone.

Known limit: erasure (`reflect data forget`) rightly removes a person from past weeks, so
comparing reports from before and after an erasure shows that someone erased data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

NOT_ANSWERED = "not answered"
#: The row holding every value not published on its own.
OTHER_VALUES = "other values"
Withheld = Literal["fewer-than-k", "differencing", "merged"]
Measure = Literal["reflections", "scale", "nudge_shown", "nudge_followed"]


@dataclass(frozen=True)
class ReflectionFact:
    id: str
    pseudonym: str
    flow_id: str
    finished_at: dt.datetime


@dataclass(frozen=True)
class ScaleFact:
    reflection_id: str
    step_id: str
    value: Any


@dataclass(frozen=True)
class EventFact:
    pseudonym: str
    event: str
    flow_id: str | None
    at: dt.datetime


@dataclass(frozen=True)
class Activity:
    """What the aggregates are made of (read from the store for a time window)."""

    reflections: list[ReflectionFact] = field(default_factory=list)
    scales: list[ScaleFact] = field(default_factory=list)
    events: list[EventFact] = field(default_factory=list)


class ActivitySource(Protocol):
    def activity(self, *, since: dt.datetime, until: dt.datetime) -> Activity: ...


@dataclass(frozen=True)
class Figure:
    """One reported number, or the reason it is withheld."""

    week: str
    flow_id: str
    measure: Measure
    count: int | None
    step_id: str | None = None
    value: str | None = None
    withheld: Withheld | None = None

    def shown(self, *, min_group_size: int) -> str:
        if self.withheld == "fewer-than-k":
            return f"fewer than {min_group_size}"
        if self.withheld in ("differencing", "merged"):
            return "suppressed"
        return str(self.count)


@dataclass(frozen=True)
class Report:
    weeks: tuple[str, ...]
    min_group_size: int
    figures: tuple[Figure, ...]

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows for JSON and CSV: withheld figures have count None and a reason."""
        return [
            {
                "week": f.week,
                "flow": f.flow_id,
                "measure": f.measure,
                "step": f.step_id,
                "value": f.value,
                "count": f.count,
                "shown": f.shown(min_group_size=self.min_group_size),
                "withheld": f.withheld,
            }
            for f in self.figures
        ]


@dataclass
class _Cell:
    count: int = 0
    people: set[str] = field(default_factory=set)

    def add(self, who: str, times: int = 1) -> None:
        self.count += times
        self.people.add(who)


def weeks_window(
    *, now: dt.datetime, weeks: int, oldest: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """[since, until) covering the last `weeks` complete ISO weeks before `now` (UTC), and not
    reaching back before the week after `oldest`."""
    today = now.astimezone(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    until = dt.datetime.combine(monday, dt.time(), tzinfo=dt.UTC)
    since = until - dt.timedelta(weeks=max(weeks, 0))
    if oldest is not None:
        first = oldest.astimezone(dt.UTC).date()
        first += dt.timedelta(days=(7 - first.weekday()) % 7)  # the next Monday, or today
        since = max(since, dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC))
    return min(since, until), until


def iso_week(at: dt.datetime) -> str:
    year, week, _ = at.astimezone(dt.UTC).isocalendar()
    return f"{year}-W{week:02d}"


def report(
    source: ActivitySource,
    *,
    weeks: int,
    min_group_size: int,
    now: dt.datetime,
    oldest: dt.datetime | None = None,
) -> Report:
    """The aggregates for the last `weeks` complete weeks (see the module's rules)."""
    since, until = weeks_window(now=now, weeks=weeks, oldest=oldest)
    labels: list[str] = []
    monday = since
    while monday < until:
        labels.append(iso_week(monday))
        monday += dt.timedelta(weeks=1)
    return Report(
        weeks=tuple(labels),
        min_group_size=min_group_size,
        figures=tuple(
            aggregate(source.activity(since=since, until=until), min_group_size=min_group_size)
        ),
    )


def aggregate(activity: Activity, *, min_group_size: int) -> list[Figure]:
    """Figures per (week, flow), with rules 1 and 2 of the module applied."""
    k = min_group_size
    groups: dict[tuple[str, str], list[ReflectionFact]] = defaultdict(list)
    for fact in activity.reflections:
        groups[(iso_week(fact.finished_at), fact.flow_id)].append(fact)
    reminders: dict[tuple[str, str], dict[str, _Cell]] = defaultdict(
        lambda: {"nudge_shown": _Cell(), "nudge_followed": _Cell()}
    )
    for event in activity.events:
        if event.flow_id is not None and event.event in ("nudge_shown", "nudge_followed"):
            reminders[(iso_week(event.at), event.flow_id)][event.event].add(event.pseudonym)
    answers: dict[str, dict[str, Any]] = defaultdict(dict)
    for scale in activity.scales:
        answers[scale.reflection_id][scale.step_id] = scale.value

    figures: list[Figure] = []
    for week, flow_id in sorted(set(groups) | set(reminders)):
        group = groups.get((week, flow_id), [])
        if group:
            figures += _reflection_figures(week, flow_id, group, answers, k=k)
        if (week, flow_id) in reminders:
            figures += _nudge_figures(week, flow_id, reminders[(week, flow_id)], k=k)
    return figures


def _reflection_figures(
    week: str,
    flow_id: str,
    group: list[ReflectionFact],
    answers: dict[str, dict[str, Any]],
    *,
    k: int,
) -> list[Figure]:
    people = {fact.pseudonym for fact in group}
    if len(people) < k:
        return [Figure(week, flow_id, "reflections", None, withheld="fewer-than-k")]
    figures = [Figure(week, flow_id, "reflections", len(group))]
    steps = sorted({step for fact in group for step in answers.get(fact.id, {})})
    for step in steps:
        cells: dict[str, _Cell] = defaultdict(_Cell)
        for fact in group:
            value = answers.get(fact.id, {}).get(step)
            cells[NOT_ANSWERED if value is None else str(value)].add(fact.pseudonym)
        published = publishable(cells, everyone=people, k=k)
        for value in sorted(published, key=_value_order):
            figures.append(
                Figure(week, flow_id, "scale", cells[value].count, step_id=step, value=value)
            )
        rest = sum(cell.count for value, cell in cells.items() if value not in published)
        figures.append(
            Figure(week, flow_id, "scale", rest, step_id=step, value=OTHER_VALUES, withheld=None)
        )
    return figures


def _nudge_figures(week: str, flow_id: str, cells: dict[str, _Cell], *, k: int) -> list[Figure]:
    shown, followed = cells["nudge_shown"], cells["nudge_followed"]
    if len(shown.people) < k:
        return [Figure(week, flow_id, "nudge_shown", None, withheld="fewer-than-k")]
    figures = [Figure(week, flow_id, "nudge_shown", len(shown.people))]
    took_it = followed.people & shown.people
    not_followed = shown.people - took_it
    reason: Withheld | None = None
    if len(took_it) < k:
        reason = "fewer-than-k"
    elif len(not_followed) < k:
        reason = "differencing"  # nearly everyone followed: it would say what the rest did
    figures.append(
        Figure(week, flow_id, "nudge_followed", None if reason else len(took_it), withheld=reason)
    )
    return figures


def publishable(cells: dict[str, _Cell], *, everyone: set[str], k: int) -> set[str]:
    """Which cells of a partition to publish on their own; the rest are merged into one row.

    A cell is published only if at least `k` people are in it and at least `k` are not. Then,
    while the merged rest holds 1..k-1 people, or leaves fewer than k people out, the smallest
    published cell joins it (see the module's rule 2)."""

    def safe(members: set[str]) -> bool:
        return len(members) >= k and len(everyone - members) >= k

    published = {key for key, cell in cells.items() if safe(cell.people)}
    while published:
        rest: set[str] = set().union(
            *(cell.people for key, cell in cells.items() if key not in published)
        )
        if not rest or safe(rest):
            break
        smallest = min(published, key=lambda key: (cells[key].count, len(cells[key].people), key))
        published.discard(smallest)
    return published


def _value_order(value: str) -> tuple[int, float, str]:
    if value == NOT_ANSWERED:
        return (2, 0.0, value)
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)
