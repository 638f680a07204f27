"""`reflect stats`: safe aggregates for the organisation, per flow and per complete week.

Only groups of at least REFLECT_MIN_GROUP_SIZE people are shown, and figures that could be
worked out by subtracting others are suppressed; a value everyone gave is never shown on its
own: see bot.store.stats for the rules.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import click

from bot import settings as settings_module
from bot.engine.clock import utcnow
from bot.store import StoreError, open_store
from bot.store.orgs import within
from bot.store.stats import Activity, ActivitySource, Figure, Report, report

_MEASURES = {
    "reflections": "reflections",
    "nudge_shown": "nudge shown",
    "nudge_followed": "nudge followed",
}
_COLUMNS = ("week", "flow", "measure", "step", "value", "count", "shown", "withheld")


@click.command(name="stats")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--weeks",
    type=click.IntRange(min=1, max=520),
    default=8,
    show_default=True,
    help="How many complete weeks to report, before this one.",
)
@click.option(
    "--org",
    "org_id",
    metavar="TEAM_ID",
    default=None,
    help="Only the people of this installed workspace (or Grid organisation, E...): each "
    "organisation's figures apart from every other's.",
)
def command(fmt: str, weeks: int, org_id: str | None) -> None:
    """Reflections, scale answers and supervisor nudges per flow and week, for groups of at
    least REFLECT_MIN_GROUP_SIZE people. Never any text, never safety signposts."""
    settings = settings_module.load()
    now = utcnow()
    oldest = now - dt.timedelta(days=settings.retention_days)
    k = settings.min_group_size
    if settings.uses_postgres or settings.db_path.exists():
        try:
            with open_store(settings) as store:
                source: ActivitySource = store
                if org_id is not None:
                    source = _OneOrganisation(store, store.members(org_id.strip()))
                result = report(source, weeks=weeks, min_group_size=k, now=now, oldest=oldest)
        except StoreError as error:
            raise click.ClickException(str(error)) from None
    else:  # nothing kept yet: the same (empty) report, without creating a database
        result = report(_Nothing(), weeks=weeks, min_group_size=k, now=now, oldest=oldest)
    if fmt == "json":
        document = {"weeks": list(result.weeks), "min_group_size": k, "figures": result.rows()}
        click.echo(json.dumps(document, indent=2))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(result.rows())
        click.echo(buffer.getvalue(), nl=False)
    else:
        click.echo(_table(result))


class _OneOrganisation:
    def __init__(self, store: ActivitySource, people: set[str]) -> None:
        self._store, self._people = store, people

    def activity(self, *, since: dt.datetime, until: dt.datetime) -> Activity:
        return within(self._store.activity(since=since, until=until), self._people)


class _Nothing:
    def activity(self, *, since: dt.datetime, until: dt.datetime) -> Activity:
        return Activity()


def _table(result: Report) -> str:
    k = result.min_group_size
    if not result.weeks:
        return "No complete week to report yet."
    span = f"{result.weeks[0]} to {result.weeks[-1]}"
    if not result.figures:
        return f"No reflections in {span}."
    rows = [("week", "flow", "measure", "count")]
    rows += [(f.week, f.flow_id, _measure(f), f.shown(min_group_size=k)) for f in result.figures]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 5)
    note = (
        f"\n\nWeeks {span}. Groups of fewer than {k} people are not shown. A value is shown only "
        f"if at least {k} people gave it and at least {k} did not; 'other values' counts all "
        "the rest together. Supervisor suggestions count people, not clicks."
    )
    return "\n".join(lines) + note


def _measure(figure: Figure) -> str:
    if figure.measure == "scale":
        return f"{figure.step_id}: {figure.value}"
    return _MEASURES[figure.measure]
