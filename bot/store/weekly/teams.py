"""Teams with weekly reminders switched on, and the people who opted out of a team's reminders.

A team is a Slack channel, kept as a keyed digest of its id with the id sealed beside it
(bot.store.weekly.tables). Who switched it on is kept as a pseudonym (to check permission) and
as their user id sealed under the service key (to name them in the consent message).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.store.times import parse, stamp
from bot.store.weekly.tables import Row, Tables, Transactions
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
    #: The installation the team was switched on through (bot.slack.identity
    #: .installation_key); None for a team switched on before it was kept, or without Slack's
    #: OAuth install.
    installation: str | None = None

    @property
    def reach(self) -> str:
        """What the team's Slack client is found by (bot.weekly.service.workspace_slack): its
        installation, else its workspace."""
        return self.installation or self.workspace

    def __repr__(self) -> str:  # no sealed values or pseudonyms in logs
        return f"Team({self.when.describe()}, active={self.active})"


def workspace_aad(channel: str) -> str:
    return f"weekly/workspace/{channel}"


def installation_aad(channel: str) -> str:
    return f"weekly/installation/{channel}"


def _team(row: Row, keyring: Keyring, channel: str) -> Team:
    hour, minute = (int(part) for part in row["at"].split(":"))
    installation = row["installation_sealed"]
    return Team(
        channel=channel,
        workspace=keyring.unseal(row["workspace_sealed"], aad=workspace_aad(channel)),
        when=WeeklyTime(day=row["day"], time=dt.time(hour, minute)),
        active=bool(row["active"]),
        lead=row["lead"],
        lead_sealed=row["lead_sealed"],
        switched_on_at=parse(row["switched_on_at"]),
        problem=row["problem"],
        installation=(
            keyring.unseal(installation, aad=installation_aad(channel))
            if installation is not None
            else None
        ),
    )


class Teams(Tables):
    """Team settings. The workspace (team) id is kept sealed, like every Slack id."""

    def __init__(self, db: Transactions, *, keyring: Keyring) -> None:
        super().__init__(db)
        self.keyring = keyring

    def _teams(self, rows: list[Row]) -> list[Team]:
        """Rows as teams, in the order of their channel ids."""
        teams = [_team(row, self.keyring, self._channel(row)) for row in rows]
        return sorted(teams, key=lambda team: team.channel)

    def get(self, channel: str) -> Team | None:
        rows = self._read("SELECT * FROM reminder_teams WHERE channel = ?", (self._key(channel),))
        return _team(rows[0], self.keyring, channel) if rows else None

    def get_many(self, channels: list[str]) -> dict[str, Team]:
        """`get` for many teams in one statement (those that exist), by channel id."""
        keys = {self._key(channel): channel for channel in channels}
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        found = self._read(f"SELECT * FROM reminder_teams WHERE channel IN ({marks})", list(keys))
        return {
            keys[row["channel"]]: _team(row, self.keyring, keys[row["channel"]]) for row in found
        }

    def active(self) -> list[Team]:
        return self._teams(self._read("SELECT * FROM reminder_teams WHERE active = 1"))

    def led_by(self, lead: str) -> list[Team]:
        teams = self._teams(self._read("SELECT * FROM reminder_teams WHERE lead = ?", (lead,)))
        return sorted(teams, key=lambda team: not team.active)

    def switch_on(
        self,
        *,
        channel: str,
        workspace: str,
        when: WeeklyTime,
        lead: str,
        lead_sealed: bytes,
        now: dt.datetime,
        installation: str | None = None,
    ) -> Team:
        """Switch a team's reminders on, or change its day and time. Whoever switches on a team
        that was off becomes its lead; a change to a team that is on keeps its lead.
        `installation`: the one it is switched on through (its reminders go out with its
        token); a change keeps the one it has, unless it had none."""
        at = f"{when.time:%H:%M}"
        sealed = self.keyring.seal(workspace, aad=workspace_aad(channel))
        through = (
            self.keyring.seal(installation, aad=installation_aad(channel))
            if installation is not None
            else None
        )
        key = self._key(channel)
        with self._db.writing() as db:
            current = self.get(channel)
            if current is None:
                self._exec(
                    db,
                    "INSERT INTO reminder_teams (channel, channel_sealed, workspace_sealed,"
                    " installation_sealed, day, at, active, lead, lead_sealed, switched_on_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    (
                        key,
                        self._sealed(channel),
                        sealed,
                        through,
                        when.day,
                        at,
                        lead,
                        lead_sealed,
                        stamp(now),
                        stamp(now),
                    ),
                )
            elif not current.active:
                self._exec(
                    db,
                    "UPDATE reminder_teams SET workspace_sealed = ?, installation_sealed = ?,"
                    " day = ?, at = ?, active = 1, lead = ?, lead_sealed = ?, switched_on_at = ?,"
                    " updated_at = ?, problem = NULL WHERE channel = ?",
                    (sealed, through, when.day, at, lead, lead_sealed, stamp(now), stamp(now), key),
                )
            else:
                self._exec(
                    db,
                    "UPDATE reminder_teams SET day = ?, at = ?, updated_at = ?, problem = NULL,"
                    " installation_sealed = COALESCE(installation_sealed, ?) WHERE channel = ?",
                    (when.day, at, stamp(now), through, key),
                )
        team = self.get(channel)
        assert team is not None
        return team

    def switch_off(self, *, channel: str, now: dt.datetime) -> bool:
        changed = self._count(
            "UPDATE reminder_teams SET active = 0, updated_at = ? WHERE channel = ? AND active = 1",
            (stamp(now), self._key(channel)),
        )
        return changed == 1

    def report_problem(self, *, channel: str, problem: str | None) -> None:
        """Note (or clear) why a team's members could not be read, e.g. `not_in_channel`."""
        self._write(
            "UPDATE reminder_teams SET problem = ? WHERE channel = ?",
            (problem, self._key(channel)),
        )

    # ------------------------------------------------------------------ opting out

    def opt_out(self, *, channel: str, person: str, now: dt.datetime) -> None:
        self._write(
            "INSERT INTO reminder_opt_outs (channel, channel_sealed, person, at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (channel, person) DO NOTHING",
            (self._key(channel), self._sealed(channel), person, stamp(now)),
        )

    def opt_in(self, *, channel: str, person: str) -> bool:
        return (
            self._count(
                "DELETE FROM reminder_opt_outs WHERE channel = ? AND person = ?",
                (self._key(channel), person),
            )
            == 1
        )

    def opted_out(self, *, channel: str, person: str) -> bool:
        rows = self._read(
            "SELECT 1 FROM reminder_opt_outs WHERE channel = ? AND person = ?",
            (self._key(channel), person),
        )
        return bool(rows)

    def opt_outs_of(self, channel: str) -> set[str]:
        rows = self._read(
            "SELECT person FROM reminder_opt_outs WHERE channel = ?", (self._key(channel),)
        )
        return {row["person"] for row in rows}

    def opt_outs_by_channel(self, channels: list[str]) -> dict[str, set[str]]:
        """`opt_outs_of` for many teams in one statement: channel id: pseudonyms."""
        keys = {self._key(channel): channel for channel in channels}
        if not keys:
            return {}
        found: dict[str, set[str]] = {channel: set() for channel in channels}
        marks = ",".join("?" * len(keys))
        for row in self._read(
            f"SELECT channel, person FROM reminder_opt_outs WHERE channel IN ({marks})",
            list(keys),
        ):
            found[keys[row["channel"]]].add(row["person"])
        return found

    def opted_out_teams(self, person: str) -> list[Team]:
        """The teams a person said "Not for me" to, for their App Home (to opt back in)."""
        rows = self._read(
            "SELECT t.* FROM reminder_teams t JOIN reminder_opt_outs o ON o.channel = t.channel "
            "WHERE o.person = ?",
            (person,),
        )
        return self._teams(rows)
