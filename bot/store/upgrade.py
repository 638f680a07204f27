"""Sealing what older versions of the store kept in clear, when a database is opened.

Before migration 004, choice and scale answers were kept in clear (for aggregates, which now
read them through each person's key), and so were events: what happened (crisis support
shown, a firm supervisor suggestion, a click) in clear beside the pseudonym. A migration has
no keys, so the store does this on opening: each such value is sealed under its person's data
key, or deleted when that key is gone (the person was erased, so it can never be read again
and is not kept in clear either).

The weekly reminders' tables kept each team's Slack channel id in clear beside pseudonyms
before migration 009: on opening, each becomes a keyed digest, with the id sealed beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlite_utils

from bot.store.privacy import row_aad, seal
from bot.store.weekly.tables import channel_aad, channel_key
from bot.weekly.privacy import Keyring

#: What `event` says for every event now (what happened is in `sealed`).
SEALED = "sealed"


def seal_clear_rows(db: sqlite_utils.Database, *, key_of: Callable[[str], bytes | None]) -> int:
    """Seal (or delete) every clear answer and sensitive event; returns how many changed."""
    answers = db.execute(
        "SELECT a.reflection_id, a.step_id, a.value, r.pseudonym FROM answers a"
        " JOIN reflections r ON r.id = a.reflection_id WHERE a.value IS NOT NULL"
    ).fetchall()
    events = db.execute(
        "SELECT id, pseudonym, event, flow_id FROM events WHERE sealed IS NULL"
    ).fetchall()
    keys = {who: key_of(who) for who in {row[3] for row in answers} | {row[1] for row in events}}
    for rid, step, value, who in answers:
        where = [rid, step]
        key = keys[who]
        if key is None:
            db.execute("DELETE FROM answers WHERE reflection_id = ? AND step_id = ?", where)
            continue
        sealed = seal(key, value.encode("utf-8"), aad=row_aad("answers", rid, step, who))
        db.execute(
            "UPDATE answers SET value = NULL, sealed = ? WHERE reflection_id = ? AND step_id = ?",
            [sealed, *where],
        )
    for row_id, who, event, flow_id in events:
        key = keys[who]
        if key is None:
            db.execute("DELETE FROM events WHERE id = ?", [row_id])
            continue
        body = json.dumps({"event": event, "flow_id": flow_id}).encode("utf-8")
        sealed = seal(key, body, aad=row_aad("events", str(row_id), who))
        db.execute(
            "UPDATE events SET event = ?, flow_id = NULL, sealed = ? WHERE id = ?",
            [SEALED, sealed, row_id],
        )
    return len(answers) + len(events)


#: The weekly reminders' tables that name a team's channel (migration 009).
WEEKLY_TABLES = ("reminder_teams", "reminder_opt_outs", "reminder_ledger")


def key_weekly_channels(db: sqlite_utils.Database, *, keyring: Keyring) -> int:
    """Replace every clear channel id in the weekly reminders' tables by its keyed digest,
    keeping the id sealed beside it; returns how many rows changed."""
    changed = 0
    for table in WEEKLY_TABLES:
        rows = db.execute(
            f"SELECT rowid, channel FROM {table} WHERE channel_sealed IS NULL"
        ).fetchall()
        for rowid, channel in rows:
            key = channel_key(keyring, channel)
            db.execute(
                f"UPDATE {table} SET channel = ?, channel_sealed = ? WHERE rowid = ?",
                [key, keyring.seal(channel, aad=channel_aad(key)), rowid],
            )
        changed += len(rows)
    return changed
