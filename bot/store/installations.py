"""Slack installations and OAuth states, kept in the store's own database (SQLite or
PostgreSQL), private like the rest of it.

- An installation is one row per workspace or Grid organisation: `workspace` is a keyed digest
  of its id ("team:T…" or "enterprise:E…"), `installer` a keyed digest of the installing
  user's id, and everything Slack gave (tokens, refresh token, ids, names) is JSON sealed
  under the service key, bound to the row. The file alone holds no token and no Slack id.
- An OAuth state is kept as a keyed digest until it is used once or expires.
- An organisation's standing (uninstalled when, erased after when) is in bot.store.orgs.
- `refreshing` holds an installation's lock across processes while its token is renewed:
  Slack's refresh tokens are good for one use, so two processes must not both spend one.

The table is made by migration 013_oauth_installations (SQLite) and
007_oauth_installations (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

from bot.store.privacy import Keyring, row_aad
from bot.store.times import stamp


class Transactional(Protocol):
    """What is needed of either store: its keyring and its transactions."""

    keyring: Keyring

    def writing(self) -> AbstractContextManager[Any]: ...

    def reading(self) -> AbstractContextManager[Any]: ...


#: The first key of PostgreSQL's two-key advisory locks taken while a token is renewed (the
#: two-key space does not overlap the one-key space that people's locks use).
REFRESH_LOCK_CLASS = 0x5246  # "RF"


def _on_postgres(conn: Any) -> bool:
    return not hasattr(conn, "table_names")  # not sqlite_utils: psycopg


def _lock(conn: Any, digest: str) -> None:
    """The installation's lock, until the transaction ends. On SQLite the writing transaction
    (BEGIN IMMEDIATE) is the lock already."""
    if _on_postgres(conn):
        number = int.from_bytes(bytes.fromhex(digest[:8]), "big", signed=True)
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", [REFRESH_LOCK_CLASS, number])


def _run(conn: Any, sql: str, params: list[Any]) -> Any:
    """SQL written with `?` on SQLite, with `%s` on PostgreSQL (psycopg)."""
    if _on_postgres(conn):
        sql = sql.replace("?", "%s")
    return conn.execute(sql, params)


class Installations:
    """The installations and OAuth states on a store (`SqliteStore` or `PostgresStore`)."""

    def __init__(self, store: Transactional, *, clock: Callable[[], dt.datetime]) -> None:
        self._store = store
        self._keyring = store.keyring
        self._clock = clock

    def _digest(self, workspace: str) -> str:
        return self._keyring.digest(workspace, purpose="installation")

    def _aad(self, digest: str) -> bytes:
        return row_aad("installations", digest)

    def save(self, workspace: str, record: dict[str, Any], *, installer: str | None) -> None:
        """Keep `record` (JSON-able) as the workspace's installation, replacing any before."""
        digest = self._digest(workspace)
        sealed = self._keyring.seal(json.dumps(record, sort_keys=True), aad=self._aad(digest))
        who = self._keyring.digest(installer, purpose="installer") if installer else None
        with self._store.writing() as conn:
            _run(
                conn,
                "INSERT INTO installations (workspace, installer, sealed, saved_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (workspace) DO UPDATE SET"
                " installer = excluded.installer, sealed = excluded.sealed,"
                " saved_at = excluded.saved_at",
                [digest, who, sealed, stamp(self._clock())],
            )

    def find(self, workspace: str) -> dict[str, Any] | None:
        digest = self._digest(workspace)
        with self._store.reading() as conn:
            row = _run(
                conn, "SELECT sealed FROM installations WHERE workspace = ?", [digest]
            ).fetchone()
        if row is None:
            return None
        found: dict[str, Any] = json.loads(
            self._keyring.unseal(bytes(row[0]), aad=self._aad(digest))
        )
        return found

    @contextlib.contextmanager
    def refreshing(self, workspace: str) -> Iterator[None]:
        """Hold the installation's lock, in every process on the database, until the block
        ends: a writing transaction (on SQLite, BEGIN IMMEDIATE: the one writer; on
        PostgreSQL, an advisory lock on the installation). `find` and `save` inside the block
        are part of it, so what is found there is what the last holder saved."""
        with self._store.writing() as conn:
            _lock(conn, self._digest(workspace))
            yield

    def everything(self) -> list[dict[str, Any]]:
        """Every installation kept (for an organisation-wide install to find the workspace
        installs of its organisation)."""
        with self._store.reading() as conn:
            rows = _run(conn, "SELECT workspace, sealed FROM installations", []).fetchall()
        return [
            json.loads(self._keyring.unseal(bytes(sealed), aad=self._aad(digest)))
            for digest, sealed in rows
        ]

    def delete(self, workspace: str) -> None:
        """Delete the installation, after any renewal of its token under way (which would
        otherwise save it again)."""
        digest = self._digest(workspace)
        with self._store.writing() as conn:
            _lock(conn, digest)
            _run(conn, "DELETE FROM installations WHERE workspace = ?", [digest])

    # ------------------------------------------------------------------ OAuth states

    def issue_state(self, state: str, *, expires_in: dt.timedelta) -> None:
        now = self._clock()
        with self._store.writing() as conn:
            _run(conn, "DELETE FROM oauth_states WHERE expires_at < ?", [stamp(now)])
            _run(
                conn,
                "INSERT INTO oauth_states (digest, expires_at) VALUES (?, ?)",
                [self._keyring.digest(state, purpose="oauth-state"), stamp(now + expires_in)],
            )

    def consume_state(self, state: str) -> bool:
        """True once for a state issued here and not yet expired; then False."""
        digest = self._keyring.digest(state, purpose="oauth-state")
        with self._store.writing() as conn:
            row = _run(
                conn, "SELECT expires_at FROM oauth_states WHERE digest = ?", [digest]
            ).fetchone()
            _run(conn, "DELETE FROM oauth_states WHERE digest = ?", [digest])
        return row is not None and str(row[0]) >= stamp(self._clock())
