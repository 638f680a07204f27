"""The weekly reminders for the commands: built from settings and the opened store.

`reflect run` starts `scheduler(...)` beside the Slack app; `reflect reminders run-once` and
`reflect reminders preview` call `run_once` and `preview`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.engine.authoring.loading import load_library
from bot.engine.clock import utcnow
from bot.settings import Settings
from bot.slack.delivery.reminder_api import ReminderSlack, WebReminderSlack
from bot.slack.views.reminder import FlowChoice
from bot.store.weekly.ledger import Ledger
from bot.store.weekly.tables import Transactions
from bot.store.weekly.teams import Teams
from bot.weekly.due import week_key, zone
from bot.weekly.planner import Planner
from bot.weekly.privacy import Keyring
from bot.weekly.profiles import Profiles
from bot.weekly.runner import ReminderRunner, RoundReport, Scheduler
from bot.weekly.wiring import build_runner

Clock = Callable[[], dt.datetime]


def flow_choices(settings: Settings) -> list[FlowChoice]:
    """The flows a reminder offers, in the library's order (the default first)."""
    files = tuple(
        (path, path.stat().st_mtime_ns) for path in sorted(settings.flows_dir.glob("*.yaml"))
    )
    return list(_choices(files, settings.default_flow))


@lru_cache(maxsize=8)
def _choices(files: tuple[tuple[Path, int], ...], default: str) -> tuple[FlowChoice, ...]:
    loaded = load_library([path for path, _ in files], default=default)
    return tuple(FlowChoice(flow.id, flow.title) for flow in loaded.library)


def slack_for(settings: Settings) -> WebReminderSlack:
    return WebReminderSlack(token=settings.slack_bot_token, base_url=settings.slack_api_url)


def workspace_slack(
    settings: Settings, *, token_for: Callable[[str], str | None] | None = None
) -> Callable[[str], ReminderSlack]:
    """The reminders' one seam to Slack: the client for a team (bot.store.weekly.teams
    .Team.reach: the installation its reminders were switched on through, else its workspace).
    With one bot token (a self-hosted workspace), one client per workspace, made on first use.
    Installed over OAuth (`token_for`), a client with the installation's token each time it is
    asked for, so a rotated token is picked up (None once it uninstalled: Slack refuses)."""
    if token_for is not None:
        return lambda workspace: WebReminderSlack(
            token=token_for(workspace), base_url=settings.slack_api_url
        )
    clients: dict[str, ReminderSlack] = {}

    def client(workspace: str) -> ReminderSlack:
        if workspace not in clients:
            clients[workspace] = slack_for(settings)
        return clients[workspace]

    return client


def starting_at(moment: dt.datetime) -> Clock:
    """A clock that reads `moment` now and moves on in real time (for `--now`)."""
    began = time.monotonic()
    return lambda: moment + dt.timedelta(seconds=time.monotonic() - began)


@dataclass(frozen=True)
class ReminderService:
    db: Transactions
    keyring: Keyring
    settings: Settings
    #: `slack(workspace)`: the Slack client for a workspace (see `workspace_slack`).
    slack: Callable[[str], ReminderSlack]
    profiles: Profiles = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "profiles", Profiles(self.db))

    @property
    def late_after(self) -> dt.timedelta:
        return dt.timedelta(hours=self.settings.weekly_late_hours)

    def runner(
        self,
        *,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> ReminderRunner:
        return build_runner(
            db=self.db,
            slack_for=self.slack,
            profiles=self.profiles,
            keyring=self.keyring,
            flows=flow_choices(self.settings),
            clock=clock,
            sleep=sleep,
            late_after=self.late_after,
            interval=1 / self.settings.weekly_posts_per_second,
            should_stop=should_stop,
            keep_for=dt.timedelta(days=self.settings.retention_days),
        )

    def run_once(self, *, clock: Clock = utcnow) -> RoundReport:
        return self.runner(clock=clock).run_once()

    def scheduler(self, *, clock: Clock = utcnow) -> Scheduler:
        def build(
            sleep: Callable[[float], None], should_stop: Callable[[], bool]
        ) -> ReminderRunner:
            return self.runner(clock=clock, sleep=sleep, should_stop=should_stop)

        return Scheduler(build=build, clock=clock)

    def preview(self, *, at: dt.datetime) -> list[PreviewLine]:
        """Who would be due at `at`, by pseudonym, and whether already in the ledger."""
        teams = Teams(self.db, keyring=self.keyring)
        ledger = Ledger(self.db)
        profiles = self.profiles
        planner = Planner(
            teams=teams,
            ledger=ledger,
            profiles=profiles,
            slack_for=self.slack,
            keyring=self.keyring,
            late_after=self.late_after,
            sleep=time.sleep,
        )
        report = planner.plan(now=at, dry_run=True)
        lines = []
        for row in report.wanted:
            cached = profiles.cached(row.person)
            tz = zone(cached.tz if cached else None)
            lines.append(
                PreviewLine(
                    person=row.person[:12],
                    team=row.channel,
                    due_utc=row.due_at,
                    due_local=row.due_at.astimezone(tz),
                    zone=str(tz.key),
                    week=week_key(now=at, tz=tz),
                    state="late (would be skipped)" if row.skipped else "due",
                    first=row.consent,
                )
            )
        return sorted(lines, key=lambda line: (line.due_utc, line.team, line.person))


@dataclass(frozen=True)
class PreviewLine:
    person: str
    team: str
    due_utc: dt.datetime
    due_local: dt.datetime
    zone: str
    week: str
    state: str
    first: bool
