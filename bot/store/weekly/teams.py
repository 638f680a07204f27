"""Teams with weekly nudges switched on, and the people who opted out of a team's nudges.

A team is a Slack channel. Who switched it on is kept as a pseudonym (to check permission) and
as their user id sealed under the service key (to name them in the consent message).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from bot.weekly.due import WeeklyTime
from bot.weekly.privacy import Keyring


@dataclass(frozen=True)
class Team:
    channel: str
    workspace: str
    when: WeeklyTime
    active: bool
    lead: str
    lead_sealed: bytes
    switched_on_at: dt.datetime
    problem: str | None = None

    def __repr__(self) -> str:  # no sealed values or pseudonyms in logs
        return f"Team({self.when.describe()}, active={self.active})"


def _epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


def _moment(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def workspace_aad(channel: str) -> str:
    return f"weekly/workspace/{channel}"


def _team(row: sqlite3.Row, keyring: Keyring) -> Team:
    hour, minute = (int(part) for part in row["at"].split(":"))
    channel = row["channel"]
    return Team(
        channel=channel,
        workspace=keyring.unseal(row["workspace_sealed"], aad=workspace_aad(channel)),
        when=WeeklyTime(day=row["day"], time=dt.time(hour, minute)),
        active=bool(row["active"]),
        lead=row["lead"],
        lead_sealed=row["lead_sealed"],
        switched_on_at=_moment(row["switched_on_at"]),
        problem=row["problem"],
    )


class Teams:
    """Team settings. The workspace (team) id is kept sealed, like every Slack id."""

    def __init__(self, connection: sqlite3.Connection, *, keyring: Keyring) -> None:
        self.db = connection
        self.keyring = keyring

    def get(self, channel: str) -> Team | None:
        row = self.db.execute("SELECT * FROM weekly_teams WHERE channel = ?", (channel,)).fetchone()
        return _team(row, self.keyring) if row else None

    def active(self) -> list[Team]:
        rows = self.db.execute("SELECT * FROM weekly_teams WHERE active = 1 ORDER BY channel")
        return [_team(row, self.keyring) for row in rows]

    def led_by(self, lead: str) -> list[Team]:
        rows = self.db.execute(
            "SELECT * FROM weekly_teams WHERE lead = ? ORDER BY active DESC, channel", (lead,)
        )
        return [_team(row, self.keyring) for row in rows]

    def switch_on(
        self,
        *,
        channel: str,
        workspace: str,
        when: WeeklyTime,
        lead: str,
        lead_sealed: bytes,
        now: dt.datetime,
    ) -> Team:
        """Switch a team's nudges on, or change its day and time. Whoever switches on a team
        that was off becomes its lead; a change to a team that is on keeps its lead."""
        at = f"{when.time:%H:%M}"
        sealed = self.keyring.seal(workspace, aad=workspace_aad(channel))
        self.db.execute("BEGIN IMMEDIATE")
        try:
            current = self.get(channel)
            if current is None:
                self.db.execute(
                    "INSERT INTO weekly_teams (channel, workspace_sealed, day, at, active, lead, "
                    "lead_sealed, switched_on_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    (channel, sealed, when.day, at, lead, lead_sealed, _epoch(now), _epoch(now)),
                )
            elif not current.active:
                self.db.execute(
                    "UPDATE weekly_teams SET workspace_sealed = ?, day = ?, at = ?, active = 1, "
                    "lead = ?, lead_sealed = ?, switched_on_at = ?, updated_at = ?, problem = NULL "
                    "WHERE channel = ?",
                    (sealed, when.day, at, lead, lead_sealed, _epoch(now), _epoch(now), channel),
                )
            else:
                self.db.execute(
                    "UPDATE weekly_teams SET day = ?, at = ?, updated_at = ?, problem = NULL "
                    "WHERE channel = ?",
                    (when.day, at, _epoch(now), channel),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        team = self.get(channel)
        assert team is not None
        return team

    def switch_off(self, *, channel: str, now: dt.datetime) -> bool:
        cursor = self.db.execute(
            "UPDATE weekly_teams SET active = 0, updated_at = ? WHERE channel = ? AND active = 1",
            (_epoch(now), channel),
        )
        return cursor.rowcount == 1

    def report_problem(self, *, channel: str, problem: str | None) -> None:
        """Note (or clear) why a team's members could not be read, e.g. `not_in_channel`."""
        self.db.execute("UPDATE weekly_teams SET problem = ? WHERE channel = ?", (problem, channel))

    # ------------------------------------------------------------------ opting out

    def opt_out(self, *, channel: str, person: str, now: dt.datetime) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO weekly_opt_outs (channel, person, at) VALUES (?, ?, ?)",
            (channel, person, _epoch(now)),
        )

    def opt_in(self, *, channel: str, person: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM weekly_opt_outs WHERE channel = ? AND person = ?", (channel, person)
        )
        return cursor.rowcount == 1

    def opted_out(self, *, channel: str, person: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM weekly_opt_outs WHERE channel = ? AND person = ?", (channel, person)
        ).fetchone()
        return row is not None

    def opt_outs_of(self, channel: str) -> set[str]:
        rows = self.db.execute("SELECT person FROM weekly_opt_outs WHERE channel = ?", (channel,))
        return {row["person"] for row in rows}

    def opted_out_teams(self, person: str) -> list[Team]:
        """The teams a person said "Not for me" to, for their App Home (to opt back in)."""
        rows = self.db.execute(
            "SELECT t.* FROM weekly_teams t JOIN weekly_opt_outs o ON o.channel = t.channel "
            "WHERE o.person = ? ORDER BY t.channel",
            (person,),
        )
        return [_team(row, self.keyring) for row in rows]
