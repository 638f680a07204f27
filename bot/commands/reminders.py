"""`reflect reminders`: weekly reflection reminders for cron-style deployments, and a preview.

`reflect run` already runs the reminders; use `run-once` from cron instead when the bot runs
elsewhere (or to catch up), and `preview --at` to see whom a schedule would remind, and when.
"""

from __future__ import annotations

import datetime as dt

import click

from bot import settings as settings_module
from bot.commands import logs
from bot.runtime import build_weekly
from bot.store import Store, StoreError, open_store
from bot.weekly.service import ReminderService


class MomentType(click.ParamType):
    """An ISO 8601 date and time; without a zone it is taken as UTC."""

    name = "TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail(
                f'"{text}" is not a date and time: try 2026-10-30T16:00Z or '
                '"2026-10-30 16:00+01:00" (no zone means UTC).',
                param,
                ctx,
            )
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


MOMENT = MomentType()


@click.group(name="reminders")
def command() -> None:
    """Weekly reflection reminders that team leads switch on with `/reflect weekly on #team`."""


@command.command(name="run-once")
@click.option("--now", "now", type=MOMENT, default=None, help="Act as if it were TIME (UTC).")
def run_once(now: dt.datetime | None) -> None:
    """Plan and send the reminders that are due, once, then exit (for cron, every few minutes)."""
    from bot.engine.clock import utcnow
    from bot.weekly.service import starting_at

    settings = _slack_settings()
    logs.configure(settings.log_level)
    try:
        with open_store(settings) as store:
            service = _service(settings, store)
            report = service.run_once(clock=starting_at(now) if now else utcnow)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Weekly reminders: {report.plan}; {report.send}.")
    if report.plan.unreadable:
        click.echo(
            f"{len(report.plan.unreadable)} team channel(s) cannot be read: invite the bot "
            "to them (/invite @Reflect).",
            err=True,
        )
    if report.next_wake:
        click.echo(f"Next due: {report.next_wake:%Y-%m-%d %H:%M} UTC.")


@command.command(name="preview")
@click.option("--at", "at", type=MOMENT, required=True, help="The moment to preview (UTC).")
def preview(at: dt.datetime) -> None:
    """Who would be due a reminder at TIME, by pseudonym (nobody is messaged)."""
    settings = _slack_settings()
    try:
        with open_store(settings) as store:
            service = _service(settings, store)
            lines = service.preview(at=at)
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    if not lines:
        click.echo(f"Nobody would be due a weekly reminder at {at:%Y-%m-%d %H:%M} UTC.")
        return
    click.echo(f"{'person':<13} {'team':<12} {'due (UTC)':<17} {'their time':<22} state")
    for line in lines:
        local = f"{line.due_local:%a %H:%M} {line.zone}"
        first = ", first (consent)" if line.first else ""
        click.echo(
            f"{line.person:<13} {line.team:<12} {line.due_utc:%Y-%m-%d %H:%M} "
            f"{local:<22} {line.state}{first}"
        )
    click.echo(f"{len(lines)} reminder(s). People are shown by pseudonym only.")


def _slack_settings() -> settings_module.Settings:
    settings = settings_module.load()
    if not settings.slack_bot_token:
        raise click.ClickException(
            "SLACK_BOT_TOKEN is not set: weekly reminders are sent through Slack. Set it in .env "
            "(see .env.example)."
        )
    return settings


def _service(settings: settings_module.Settings, store: Store) -> ReminderService:
    """The weekly reminders' service over the bot's store (SQLite or PostgreSQL)."""
    built = build_weekly(settings=settings, store=store)
    if built is None:
        raise click.ClickException(
            "Weekly reminders are not available on this store: their tables are not in it."
        )
    return built[1]
