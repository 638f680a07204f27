"""The access log: what the server's operator did to one person's data, on which day and why.

Written by every command that decrypts, exports or erases one person's data (`reflect data
export --person ... --reason ...`), shown to the person on their Home tab, and listed by
`reflect data access-log`. Append-only: triggers (migration 004) refuse any UPDATE or DELETE,
and `forget` leaves it, so that a person can see what was done even after an erasure. The
reason is sealed under the service key, bound to its row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlite_utils

from bot.store.errors import UnreadableError
from bot.store.privacy import Keyring, row_aad
from bot.store.times import parse


@dataclass(frozen=True)
class AccessRecord:
    """One entry: what the server's operator did to a person's data."""

    pseudonym: str
    action: str
    reason: str
    day: dt.datetime


def append(
    db: sqlite_utils.Database, keyring: Keyring, *, who: str, action: str, reason: str, day: str
) -> None:
    """Add an entry (inside the caller's writing transaction)."""
    (row_id,) = db.execute("SELECT coalesce(max(id), 0) + 1 FROM access_log").fetchone()
    sealed = keyring.seal(reason, aad=row_aad("access_log", str(row_id), who))
    db.execute(
        "INSERT INTO access_log (id, pseudonym, action, reason, day) VALUES (?, ?, ?, ?, ?)",
        [row_id, who, action, sealed, day],
    )


def read(db: sqlite_utils.Database, keyring: Keyring, *, who: str | None) -> list[AccessRecord]:
    """Entries oldest first: one person's (by pseudonym), or everyone's."""
    sql = "SELECT id, pseudonym, action, reason, day FROM access_log"
    params: list[str] = []
    if who is not None:
        sql += " WHERE pseudonym = ?"
        params.append(who)
    records = []
    for row_id, pseudonym, action, sealed, day in db.execute(sql + " ORDER BY id", params):
        try:
            reason = keyring.unseal(sealed, aad=row_aad("access_log", str(row_id), pseudonym))
        except UnreadableError:
            reason = "?"
        records.append(
            AccessRecord(pseudonym=pseudonym, action=action, reason=reason, day=parse(day))
        )
    return records
