"""Aggregates for organisations (`reflect stats`), safe to show a manager.

Per flow and per ISO week: how many reflections were finished, how the scale answers were
distributed, how often the supervisor reminder was shown and how often it was followed. Nothing
else: never free text, never safety signposts, never the firm reminder (which follows signposts
and low scores, so counting it would hint at who is struggling).

Disclosure control, in three rules:

1. K-anonymity. A figure is shown only if at least K distinct people (settings.min_group_size,
   default 5) contribute to it. A (week, flow) with fewer people shows as "fewer than K" and
   nothing more; a smaller cell within it (e.g. the two people who scored 1) is withheld.
2. Complementary suppression against differencing. Within a (week, flow) the cells of a scale
   question partition the reflections: each value, plus "not answered". The total is shown, so
   one withheld cell could be worked out as the total minus the others. Whenever a partition
   has withheld cells, further cells are withheld (the smallest first) until at least two are
   withheld and together they cover at least K people; then their sum, which is all a reader
   can work out, is itself a K-group. The same holds for reminders: "shown" is the sum of
   "followed" and the unpublished "not followed", so "followed" is withheld when either it or
   "shown but not followed" has fewer than K people.
3. No totals across rows, and only complete weeks. There are no per-week or per-flow totals
   (a total beside a withheld row would reveal it), and a week is reported only once it is
   over, and only while it is wholly inside the retention period, so that running the report
   twice cannot reveal one day's activity or what a purge took away. The figures for a week are
   the same whatever `--weeks` is asked for.

Known limit: erasure (`reflect data forget`) rightly removes a person from past weeks, so
comparing reports from before and after an erasure shows that someone erased data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

NOT_ANSWERED = "not answered"
Withheld = Literal["fewer-than-k", "differencing"]
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
        if self.withheld == "differencing":
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
        withheld = protect(cells, k=k)
        for value in sorted(cells, key=_value_order):
            cell = cells[value]
            reason = withheld.get(value)
            figures.append(
                Figure(
                    week,
                    flow_id,
                    "scale",
                    None if reason else cell.count,
                    step_id=step,
                    value=value,
                    withheld=reason,
                )
            )
    return figures


def _nudge_figures(week: str, flow_id: str, cells: dict[str, _Cell], *, k: int) -> list[Figure]:
    shown, followed = cells["nudge_shown"], cells["nudge_followed"]
    if len(shown.people) < k:
        return [Figure(week, flow_id, "nudge_shown", None, withheld="fewer-than-k")]
    figures = [Figure(week, flow_id, "nudge_shown", shown.count)]
    not_followed = shown.people - followed.people
    reason: Withheld | None = None
    if 0 < len(followed.people) < k:
        reason = "fewer-than-k"
    elif followed.count and 0 < len(not_followed) < k:
        reason = "differencing"  # shown minus followed would single out the few who did not
    figures.append(
        Figure(week, flow_id, "nudge_followed", None if reason else followed.count, withheld=reason)
    )
    return figures


def protect(cells: dict[Any, _Cell], *, k: int) -> dict[Hashable, Withheld]:
    """Which cells of a partition (whose total is shown) to withhold, and why.

    Primary: cells with 1..k-1 people. Complementary: while the withheld cells are fewer than
    two, or together cover fewer than k people, also withhold the smallest shown non-empty
    cell. Empty cells (count 0) reveal no one and are always shown.
    """
    withheld: dict[Hashable, Withheld] = {
        key: "fewer-than-k" for key, cell in cells.items() if 0 < len(cell.people) < k
    }
    while withheld:
        hidden: set[str] = set().union(*(cells[key].people for key in withheld))
        if len(withheld) >= 2 and len(hidden) >= k:
            break
        candidates = [key for key, cell in cells.items() if key not in withheld and cell.count]
        if not candidates:
            break  # everything is withheld: only the total shows, and it is a K-group
        smallest = min(candidates, key=lambda key: (cells[key].count, str(key)))
        withheld[smallest] = "differencing"
    return withheld


def _value_order(value: str) -> tuple[int, float, str]:
    if value == NOT_ANSWERED:
        return (2, 0.0, value)
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)
