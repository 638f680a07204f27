"""The SQL both stores (bot.store.sqlite, bot.store.postgres) run on their rows, written once.

Each statement is written with `?` placeholders and `{newest}` for the column that orders rows
written in the same instant; a `Dialect` turns it into what its database reads (`%s` and `seq`
on PostgreSQL, `?` and `rowid` on SQLite) and says how a time is written (ISO text on SQLite, an
aware datetime on PostgreSQL). The stores keep what really differs: how a transaction is opened,
the person's lock (PostgreSQL), where the data keys live, and claiming Slack ids.

`conn` is whatever the store's transaction hands out: a sqlite_utils Database or a psycopg
Connection; both have `execute(sql, params)` returning a cursor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.engine.reflections import Event, Reflection
from bot.store import rows
from bot.store.rows import NUDGE_ANSWERS
from bot.store.stats import EventFact, ReflectionFact
from bot.store.times import parse, stamp
from bot.store.upgrade import SEALED

#: The tables that hold a person's own rows, keyed by pseudonym (erased by `forget`).
PERSON_TABLES = ("reflections", "sessions", "events", "notices", "preferences")
#: Ids read back at a time, well under the placeholders either database allows.
_CHUNK = 500


def _sqlite_many(conn: Any, sql: str, params: list[tuple[Any, ...]]) -> None:
    conn.conn.executemany(sql, params)


def _postgres_many(conn: Any, sql: str, params: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(sql, params)


@dataclass(frozen=True)
class Dialect:
    """What differs between the two databases' SQL for the same statement."""

    marker: str
    newest: str
    time: Callable[[dt.datetime], Any]
    many: Callable[[Any, str, list[tuple[Any, ...]]], None]

    def sql(self, text: str) -> str:
        return text.replace("?", self.marker).replace("{newest}", self.newest)

    def run(self, conn: Any, text: str, params: Sequence[Any] = ()) -> Any:
        """Execute `text` (written with `?`) on `conn`; the cursor."""
        return conn.execute(self.sql(text), list(params))

    def count(self, conn: Any, text: str, params: Sequence[Any] = ()) -> int:
        row = self.run(conn, text, params).fetchone()
        return int(row[0]) if row else 0


SQLITE = Dialect(marker="?", newest="rowid", time=stamp, many=_sqlite_many)
POSTGRES = Dialect(marker="%s", newest="seq", time=rows.utc, many=_postgres_many)


# ---------------------------------------------------------------------- sessions


def session_state(d: Dialect, conn: Any, *, who: str) -> bytes | None:
    row = d.run(conn, "SELECT state FROM sessions WHERE pseudonym = ?", [who]).fetchone()
    return None if row is None else row[0]


def save_session(
    d: Dialect, conn: Any, *, who: str, flow_id: str, state: bytes, at: dt.datetime
) -> None:
    d.run(
        conn,
        "INSERT INTO sessions (pseudonym, flow_id, state, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (pseudonym) DO UPDATE SET flow_id = excluded.flow_id,"
        " state = excluded.state, updated_at = excluded.updated_at",
        [who, flow_id, state, d.time(at)],
    )


def drop_session(d: Dialect, conn: Any, *, who: str) -> None:
    d.run(conn, "DELETE FROM sessions WHERE pseudonym = ?", [who])


# ---------------------------------------------------------------------- reflections


def keep_reflection(
    d: Dialect,
    conn: Any,
    *,
    reflection: Reflection,
    reflection_id: str,
    who: str,
    key: bytes,
    kept: rows.Redacted,
) -> None:
    """Insert a finished reflection and its sealed answers, settle the earlier next step it
    answered, and drop the session: all in the caller's transaction."""
    d.run(
        conn,
        "INSERT INTO reflections (id, pseudonym, flow_id, started_at, finished_at,"
        " summary, next_step, follow_up) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            reflection_id,
            who,
            reflection.flow_id,
            d.time(reflection.started_at),
            d.time(reflection.finished_at),
            rows.sealed_summary(key, reflection_id, who, kept.summary),
            kept.next_step,
            "open" if kept.next_step else None,
        ],
    )
    if reflection.follow_up is not None:
        d.run(
            conn,
            "UPDATE reflections SET follow_up = ? WHERE id = ? AND pseudonym = ?"
            " AND follow_up IS NOT NULL",
            [reflection.follow_up.state, reflection.follow_up.reflection_id, who],
        )
    answer_rows = rows.answer_rows(key, reflection_id, who, kept)
    if answer_rows:
        d.many(
            conn,
            d.sql(
                "INSERT INTO answers (reflection_id, step_id, position, kind, value, sealed,"
                " scale) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            answer_rows,
        )
    drop_session(d, conn, who=who)


def reflection_rows(
    d: Dialect, conn: Any, *, who: str, limit: int | None
) -> tuple[list[Sequence[Any]], dict[str, list[tuple[Any, ...]]]]:
    """The person's reflection rows (id, flow_id, started_at, finished_at, summary), newest
    first, and their answer rows (step_id, kind, value, sealed, scale) by reflection id."""
    sql = (
        "SELECT id, flow_id, started_at, finished_at, summary FROM reflections"
        " WHERE pseudonym = ? ORDER BY finished_at DESC, {newest} DESC"
    )
    params: list[Any] = [who]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    found = d.run(conn, sql, params).fetchall()
    answers: dict[str, list[tuple[Any, ...]]] = {row[0]: [] for row in found}
    for ids in _chunks(list(answers)):
        marks = ", ".join("?" * len(ids))
        for reflection_id, *answer in d.run(
            conn,
            "SELECT reflection_id, step_id, kind, value, sealed, scale FROM answers"
            f" WHERE reflection_id IN ({marks}) ORDER BY reflection_id, position",
            ids,
        ).fetchall():
            answers[reflection_id].append(tuple(answer))
    return found, answers


def next_step_rows(
    d: Dialect, conn: Any, *, who: str
) -> tuple[Sequence[Any], Sequence[Any] | None] | None:
    """The person's latest reflection with a next step (id, flow_id, finished_at, next_step,
    follow_up) and its written answer's row, or None if there is none or it is settled."""
    row = d.run(
        conn,
        "SELECT id, flow_id, finished_at, next_step, follow_up FROM reflections"
        " WHERE pseudonym = ? AND follow_up IS NOT NULL"
        " ORDER BY finished_at DESC, {newest} DESC LIMIT 1",
        [who],
    ).fetchone()
    if row is None or row[4] not in ("open", "carried"):
        return None
    written = d.run(
        conn,
        "SELECT step_id, kind, value, sealed, scale FROM answers"
        " WHERE reflection_id = ? AND step_id = ?",
        [row[0], row[3]],
    ).fetchone()
    return row, written


def follow_up_wanted(d: Dialect, conn: Any, *, who: str) -> bool:
    row = d.run(
        conn,
        "SELECT value FROM preferences WHERE pseudonym = ? AND name = 'follow_up'",
        [who],
    ).fetchone()
    return row is None or row[0] != "off"


def want_follow_up(d: Dialect, conn: Any, *, who: str, wanted: bool) -> None:
    d.run(
        conn,
        "INSERT INTO preferences (pseudonym, name, value) VALUES (?, 'follow_up', ?)"
        " ON CONFLICT (pseudonym, name) DO UPDATE SET value = excluded.value",
        [who, "on" if wanted else "off"],
    )


# ---------------------------------------------------------------------- events


def record_event(
    d: Dialect,
    conn: Any,
    *,
    who: str,
    key: bytes,
    event: Event,
    flow_id: str | None,
    at: dt.datetime,
) -> None:
    """Keep a sealed event on the day of `at` (an answer to a supervisor suggestion once a
    day, attributed to the flow of the person's last suggestion: bot.store.rows)."""
    day = parse(rows.day(at))
    if event in NUDGE_ANSWERS:
        mine = events_of(d, conn, key=key, who=who)
        flow_id, kept = rows.nudge_answer(event, flow_id, mine, day)
        if kept:
            return
    row = d.run(
        conn,
        "INSERT INTO events (pseudonym, event, flow_id, at) VALUES (?, ?, NULL, ?) RETURNING id",
        [who, SEALED, d.time(day)],
    ).fetchone()
    row_id = row[0]
    d.run(
        conn,
        "UPDATE events SET sealed = ? WHERE id = ?",
        [rows.sealed_event(key, who, str(row_id), event, flow_id, at=at), row_id],
    )


def events_of(d: Dialect, conn: Any, *, key: bytes, who: str) -> list[EventFact]:
    """The person's events, newest first, unsealed (rows that do not unseal are skipped)."""
    found = d.run(
        conn,
        "SELECT id, at, sealed FROM events WHERE pseudonym = ? AND sealed IS NOT NULL"
        " ORDER BY at DESC, id DESC",
        [who],
    ).fetchall()
    return rows.events(key, who, found)


def first_time(d: Dialect, conn: Any, *, who: str, notice: str) -> bool:
    """Note that the person was shown `notice`: True if it was not noted before."""
    cursor = d.run(
        conn,
        "INSERT INTO notices (pseudonym, notice) VALUES (?, ?)"
        " ON CONFLICT (pseudonym, notice) DO NOTHING",
        [who, notice],
    )
    return bool(cursor.rowcount == 1)


# ---------------------------------------------------------------------- Slack ids seen


def claim(d: Dialect, conn: Any, *, table: str, digest: str, at: dt.datetime) -> bool:
    """Claim `digest` in `table` (seen_events or seen_requests): True if it was not there."""
    cursor = d.run(
        conn,
        f"INSERT INTO {table} (digest, at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
        [digest, d.time(at)],
    )
    return bool(cursor.rowcount == 1)


def release(d: Dialect, conn: Any, *, table: str, digest: str) -> None:
    d.run(conn, f"DELETE FROM {table} WHERE digest = ?", [digest])


# ---------------------------------------------------------------------- erasure and retention


def erase_person(d: Dialect, conn: Any, *, who: str) -> int:
    """Delete the person's own rows; how many reflections went."""
    gone = d.count(conn, "SELECT count(*) FROM reflections WHERE pseudonym = ?", [who])
    for table in PERSON_TABLES:
        d.run(conn, f"DELETE FROM {table} WHERE pseudonym = ?", [who])
    return gone


def purge_aged(d: Dialect, conn: Any, *, older_than: dt.datetime) -> int:
    """Delete reflections finished, events recorded, sessions left and Slack ids seen before
    `older_than`; how many reflections went."""
    cutoff = d.time(older_than)
    aged = d.count(conn, "SELECT count(*) FROM reflections WHERE finished_at < ?", [cutoff])
    for table, column in (
        ("reflections", "finished_at"),
        ("events", "at"),
        ("sessions", "updated_at"),
        ("seen_events", "at"),
        ("seen_requests", "at"),
    ):
        d.run(conn, f"DELETE FROM {table} WHERE {column} < ?", [cutoff])
    return aged


# ---------------------------------------------------------------------- aggregates


def people_who_reflected(
    d: Dialect, conn: Any, *, flow_id: str | None, since: dt.datetime, until: dt.datetime
) -> set[str]:
    sql = "SELECT DISTINCT pseudonym FROM reflections WHERE finished_at >= ? AND finished_at < ?"
    params = [d.time(since), d.time(until)]
    if flow_id is not None:
        sql += " AND flow_id = ?"
        params.append(flow_id)
    return {row[0] for row in d.run(conn, sql, params).fetchall()}


def activity_rows(
    d: Dialect, conn: Any, *, since: dt.datetime, until: dt.datetime
) -> tuple[list[ReflectionFact], list[Sequence[Any]], list[Sequence[Any]]]:
    """In [since, until): the reflections, the scale answer rows (reflection_id, step_id,
    value, sealed, scale, pseudonym) and the sealed event rows (id, at, sealed, pseudonym),
    for bot.store.rows.activity_facts to read with each person's key."""
    window = [d.time(since), d.time(until)]
    reflections = [
        ReflectionFact(pseudonym=who, flow_id=flow, finished_at=rows.moment(at), id=rid)
        for rid, who, flow, at in d.run(
            conn,
            "SELECT id, pseudonym, flow_id, finished_at FROM reflections"
            " WHERE finished_at >= ? AND finished_at < ?",
            window,
        ).fetchall()
    ]
    scale_rows = d.run(
        conn,
        "SELECT a.reflection_id, a.step_id, a.value, a.sealed, a.scale, r.pseudonym"
        " FROM answers a JOIN reflections r ON r.id = a.reflection_id"
        " WHERE a.kind = 'scale' AND r.finished_at >= ? AND r.finished_at < ?",
        window,
    ).fetchall()
    event_rows = d.run(
        conn,
        "SELECT id, at, sealed, pseudonym FROM events"
        " WHERE sealed IS NOT NULL AND at >= ? AND at < ?",
        window,
    ).fetchall()
    return reflections, scale_rows, event_rows


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
