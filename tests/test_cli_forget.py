"""`reflect data forget` from the command line erases a person from every table, the weekly
reminders' included: run as its own process, as an operator would, so nothing the test suite
happens to have imported can stand in for wiring the command lacks."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot import settings as settings_module
from bot.engine.people import Person
from bot.engine.reflections import Answer, Reflection
from bot.engine.sessions import Session
from bot.store import open_store
from bot.store.database import keys_path_for
from bot.store.sqlite import SqliteStore
from bot.store.weekly.ledger import Ledger, Planned
from bot.store.weekly.teams import Teams
from bot.weekly.due import WeeklyTime
from bot.weekly.privacy import lead_aad

SECRET = "cli-test-secret-0123456789-abcdefghijkl"
PERSON = Person("T1:U1")
OTHER = Person("T1:U2")
NOW = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
#: Kept on purpose: a "Not for me" outlives erasure, so erasing never restarts reminders.
#: What forget keeps, and says it keeps: the "Not for me" to weekly reminders (so the person is
#: not reminded again) and the record of the operator's access (which this erasure adds to).
KEPT = {("reminder_opt_outs", "person"), ("access_log", "pseudonym")}


def _fill(store: SqliteStore, person: Person, channel: str) -> str:
    who = store.pseudonym(person)
    store.finish(
        person,
        Reflection(
            flow_id="hard-day",
            started_at=NOW,
            finished_at=NOW,
            summary="a summary",
            answers=(Answer("weight", "scale", 2), Answer("what_happened", "text", "words")),
        ),
    )
    store.save_session(person, Session(flow_id="hard-day", step_id="weight", started_at=NOW))
    store.record(person, "nudge_shown", at=NOW, flow_id="hard-day")
    sealed = store.keyring.seal("U1", aad=lead_aad(channel=channel, lead=who))
    Teams(store, keyring=store.keyring).switch_on(
        channel=channel, workspace="T1", when=WeeklyTime(), lead=who, lead_sealed=sealed, now=NOW
    )
    Teams(store, keyring=store.keyring).opt_out(channel="C9", person=who, now=NOW)
    Ledger(store).add(
        Planned(
            person=who,
            week="2026-W45",
            kind="weekly",
            channel=channel,
            recipient_sealed=sealed,
            consent=True,
            due_at=NOW,
        ),
        now=NOW,
    )
    return who


def _holding(path: Path, value: str) -> dict[tuple[str, str], int]:
    """Rows per (table, column) whose column holds `value`, in the database and keys file."""
    found: dict[tuple[str, str], int] = {}
    with sqlite3.connect(path) as db:
        db.execute("ATTACH DATABASE ? AS keys", (str(keys_path_for(path)),))
        for schema in ("main", "keys"):
            tables = db.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")
            for (table,) in tables.fetchall():
                for column in db.execute(f"PRAGMA {schema}.table_info({table})").fetchall():
                    name = column[1]
                    query = f'SELECT count(*) FROM {schema}."{table}" WHERE "{name}" = ?'
                    (count,) = db.execute(query, (value,)).fetchone()
                    if count:
                        found[(table, name)] = count
    return found


def test_reflect_data_forget_erases_the_person_from_every_table(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        **os.environ,
        "REFLECT_DATA_DIR": str(data),
        "REFLECT_SECRET_KEY": SECRET,
        "REFLECT_FLOWS_DIR": str(tmp_path),
    }
    env.pop("REFLECT_DB", None)
    path = data / "reflect.db"
    settings = settings_module.load(
        {"REFLECT_DATA_DIR": str(data), "REFLECT_SECRET_KEY": SECRET}, env_file=Path("/nonexistent")
    )
    with open_store(settings) as store:
        who = _fill(store, PERSON, "C1")
        other = _fill(store, OTHER, "C2")
    before = _holding(path, who)
    other_before = _holding(path, other)
    assert {"sessions", "reflections", "events", "data_keys", "reminder_teams"} <= {
        table for table, _ in before
    }
    assert ("reminder_ledger", "person") in before

    done = subprocess.run(
        [
            *(sys.executable, "-m", "bot.cli", "data", "forget", "--yes"),
            *("--person", "T1:U1", "--reason", "erasure request"),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert set(_holding(path, who)) == KEPT
    assert _holding(path, other) == other_before
