"""The PostgreSQL schema: numbered migrations, applied in order and frozen once released.

Two databases, as with SQLite's two files: the data database (pseudonyms, sealed text, scale and
option values, dates) and the keys database (each person's data key, wrapped under the secret).
Each has its own migration set, recorded in its own `reflect_migrations` table. A migration, once
released, is never edited: add a new one with the next number.

All pending migrations of a database are applied in one transaction that first takes a
transaction-level advisory lock, so two processes starting at once never both apply them (the
second waits, then finds nothing left to do). `reflect db migrate` applies them explicitly.

Another module adds its own tables to the data database with a set of its own::

    from bot.store.pg_schema import PgMigrations, register

    WEEKLY = register(PgMigrations("reflect-weekly"))

    @WEEKLY(name="001_weekly_teams")
    def _teams(conn): conn.execute("CREATE TABLE weekly_teams (...)")

and erases a person's rows in every `forget` with `register_eraser`. As in bot.store.schema, keep
Slack ids out: store pseudonyms, or values sealed with `Keyring.seal`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import psycopg

Connection = psycopg.Connection[Any]
Migration = Callable[[Connection], None]

#: The advisory lock key every migrating transaction takes first ("reflect:migrate").
MIGRATION_LOCK = 0x7265666C6D696772


class PgMigrations:
    """A named, ordered set of migrations. Names start with a number; each is applied once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[tuple[str, Migration]] = []

    def __call__(self, *, name: str) -> Callable[[Migration], Migration]:
        def add(migration: Migration) -> Migration:
            if any(existing == name for existing, _ in self.steps):
                raise ValueError(f"migration {self.name}/{name} is defined twice")
            if self.steps and name <= self.steps[-1][0]:
                raise ValueError(f"migration {self.name}/{name} must sort after the last one")
            self.steps.append((name, migration))
            return migration

        return add

    def applied(self, conn: Connection) -> set[str]:
        if not _has_table(conn, "reflect_migrations"):
            return set()
        rows = conn.execute(
            "SELECT name FROM reflect_migrations WHERE migration_set = %s", [self.name]
        ).fetchall()
        return {row[0] for row in rows}

    def pending(self, conn: Connection) -> list[str]:
        done = self.applied(conn)
        return [name for name, _ in self.steps if name not in done]


#: The data database's own tables.
MIGRATIONS = PgMigrations("reflect")
#: The keys database's tables.
KEYS_MIGRATIONS = PgMigrations("reflect-keys")
#: Migration sets of other modules, applied to the data database after the store's own.
REGISTERED: list[PgMigrations] = []


def register(migrations: PgMigrations) -> PgMigrations:
    """Have `migrations` applied to the data database whenever a store is opened."""
    if all(existing.name != migrations.name for existing in REGISTERED):
        REGISTERED.append(migrations)
    return migrations


#: Functions that erase a person's rows from other modules' tables, given the pseudonym.
Eraser = Callable[[Connection, str], None]
ERASERS: list[Eraser] = []


def register_eraser(eraser: Eraser) -> Eraser:
    """Have `eraser(conn, pseudonym)` run inside the transaction of every `forget`."""
    if eraser not in ERASERS:
        ERASERS.append(eraser)
    return eraser


def data_sets(extra: Iterable[PgMigrations] = ()) -> list[PgMigrations]:
    return [MIGRATIONS, *REGISTERED, *extra]


def pending(conn: Connection, sets: Iterable[PgMigrations]) -> list[str]:
    """`set/name` of every migration not yet applied to the database behind `conn`."""
    return [f"{each.name}/{name}" for each in sets for name in each.pending(conn)]


def migrate(conn: Connection, sets: Iterable[PgMigrations]) -> list[str]:
    """Apply every pending migration of `sets`, in order, in one transaction under the
    migration lock. Returns `set/name` of those applied (empty when up to date)."""
    done: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        conn.execute(
            "CREATE TABLE IF NOT EXISTS reflect_migrations (migration_set text NOT NULL,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (migration_set, name))"
        )
        for each in sets:
            applied = each.applied(conn)
            for name, migration in each.steps:
                if name in applied:
                    continue
                migration(conn)
                conn.execute(
                    "INSERT INTO reflect_migrations (migration_set, name) VALUES (%s, %s)",
                    [each.name, name],
                )
                done.append(f"{each.name}/{name}")
    return done


def _has_table(conn: Connection, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()
    return bool(row and row[0])


def _run(conn: Connection, *statements: str) -> None:
    for statement in statements:
        conn.execute(statement)


# ---------------------------------------------------------------------- the data database


@MIGRATIONS(name="001_initial")
def _initial(conn: Connection) -> None:
    """Sessions, reflections, answers, content-free events and seen Slack event ids, keyed by
    pseudonym: the SQLite store's tables as of its migration 003, with native types."""
    _run(
        conn,
        "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
        # state: Session.to_json(), sealed under the person's data key
        "CREATE TABLE sessions (pseudonym text PRIMARY KEY, flow_id text NOT NULL,"
        " state bytea NOT NULL, updated_at timestamptz NOT NULL)",
        "CREATE INDEX sessions_by_time ON sessions (updated_at)",
        # summary: the rendered summary, redacted and sealed; seq orders equal finish times
        "CREATE TABLE reflections (id text PRIMARY KEY,"
        " seq bigint GENERATED ALWAYS AS IDENTITY, pseudonym text NOT NULL,"
        " flow_id text NOT NULL, started_at timestamptz NOT NULL,"
        " finished_at timestamptz NOT NULL, summary bytea NOT NULL)",
        "CREATE INDEX reflections_by_person ON reflections (pseudonym, finished_at)",
        "CREATE INDEX reflections_by_time ON reflections (finished_at, flow_id)",
        # value: JSON for scale, choice and multi answers (in clear, for aggregates);
        # sealed: JSON of a free-text answer, redacted and sealed
        "CREATE TABLE answers (reflection_id text NOT NULL"
        " REFERENCES reflections (id) ON DELETE CASCADE, step_id text NOT NULL,"
        " position integer NOT NULL, kind text NOT NULL, value text, sealed bytea,"
        " PRIMARY KEY (reflection_id, step_id))",
        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
        " pseudonym text NOT NULL, event text NOT NULL, flow_id text,"
        " at timestamptz NOT NULL)",
        "CREATE INDEX events_by_person ON events (pseudonym, event, at)",
        "CREATE INDEX events_by_time ON events (at, event)",
        # Slack event ids already handled, as keyed digests, to drop Slack's retries
        "CREATE TABLE seen_events (digest text PRIMARY KEY, at timestamptz NOT NULL)",
        "CREATE INDEX seen_events_by_time ON seen_events (at)",
    )


# ---------------------------------------------------------------------- the keys database


@KEYS_MIGRATIONS(name="001_data_keys")
def _data_keys(conn: Connection) -> None:
    """The keys database's identity and the wrapped data keys."""
    _run(
        conn,
        "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
        "CREATE TABLE data_keys (pseudonym text PRIMARY KEY, wrapped bytea NOT NULL,"
        " created_at timestamptz NOT NULL)",
    )


@MIGRATIONS(name="002_sealed_answers_access_log_notices_follow_up")
def _sealed_answers_access_log_notices_follow_up(conn: Connection) -> None:
    """What the SQLite store's migrations 005-007 added: every answer sealed (`value` stays for
    rows written before, read as they are), scale answers saying how they read, events kept by
    day with the sensitive ones sealed, the operator's append-only access log, one-time
    notices, people's preferences, and each reflection's next step and what became of it."""
    _run(
        conn,
        # scale: JSON {"min": 1, "max": 5, "heavy": "max"} for scale answers, else NULL
        "ALTER TABLE answers ADD COLUMN scale text",
        "ALTER TABLE events ADD COLUMN sealed bytea",
        # events keep a day, never a time (UTC midnight)
        "UPDATE events SET at = date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
        # next_step: the step id of the answer to ask about next time;
        # follow_up: open, carried, done or dropped (NULL: no next step written)
        "ALTER TABLE reflections ADD COLUMN next_step text",
        "ALTER TABLE reflections ADD COLUMN follow_up text",
        "CREATE INDEX reflections_follow_up ON reflections (pseudonym, follow_up, finished_at)",
        "CREATE TABLE preferences (pseudonym text NOT NULL, name text NOT NULL,"
        " value text NOT NULL, PRIMARY KEY (pseudonym, name))",
        "CREATE TABLE notices (pseudonym text NOT NULL, notice text NOT NULL,"
        " PRIMARY KEY (pseudonym, notice))",
        # reason: sealed under the service key; append-only, kept through `forget`
        "CREATE TABLE access_log (id bigint PRIMARY KEY, pseudonym text NOT NULL,"
        " action text NOT NULL, reason bytea NOT NULL, day timestamptz NOT NULL)",
        "CREATE SEQUENCE access_log_ids OWNED BY access_log.id",
        "CREATE INDEX access_log_by_person ON access_log (pseudonym, id)",
        "CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$",
        "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log"
        " FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
        "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log"
        " FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
    )


@MIGRATIONS(name="003_seen_requests")
def _seen_requests(conn: Connection) -> None:
    """Signed Slack requests already handled (as keyed digests), for the signature window, so
    that every process sharing the database refuses a replay."""
    _run(
        conn,
        "CREATE TABLE seen_requests (digest text PRIMARY KEY, at timestamptz NOT NULL)",
        "CREATE INDEX seen_requests_by_time ON seen_requests (at)",
    )


@MIGRATIONS(name="004_organisation_settings")
def _organisation_settings(conn: Connection) -> None:
    """What the SQLite store's migration 010 added: each organisation's own settings, sealed,
    under a keyed digest of its id, and which pseudonyms belong to which organisation."""
    _run(
        conn,
        "CREATE TABLE organisation_settings (organisation text NOT NULL, name text NOT NULL,"
        " value bytea NOT NULL, updated_at text NOT NULL, PRIMARY KEY (organisation, name))",
        "CREATE TABLE organisation_members (organisation text NOT NULL, pseudonym text NOT NULL,"
        " PRIMARY KEY (organisation, pseudonym))",
        "CREATE INDEX organisation_members_by_person ON organisation_members (pseudonym)",
    )


@MIGRATIONS(name="005_outbox")
def _outbox(conn: Connection) -> None:
    """The replies of a step, written with it and deleted once posted (bot.store.outbox): one
    row per Slack call, sealed under the person's data key, with its delivery key and lease."""
    _run(
        conn,
        "CREATE TABLE outbox (id bigserial PRIMARY KEY, pseudonym text NOT NULL,"
        " delivery text NOT NULL UNIQUE, sealed bytea NOT NULL, created_at timestamptz NOT NULL,"
        " lease_until timestamptz, claim_token text, attempts integer NOT NULL DEFAULT 0)",
        "CREATE INDEX outbox_by_person ON outbox (pseudonym, id)",
    )


@MIGRATIONS(name="006_weekly_reminders")
def _weekly_reminders(conn: Connection) -> None:
    """The weekly reminders' tables, as the SQLite store has them after its migrations 004, 009
    and 012 (bot.store.weekly): teams and opt-outs (a channel as a keyed digest, its id sealed),
    the ledger (one row per person per week, claimed with leases), what Slack said of each
    recipient (time zone sealed; deactivated, bot), and each workspace's shared pace. Times are
    the same fixed-width ISO text in UTC as on SQLite, so the same SQL orders and compares them."""
    _run(
        conn,
        "CREATE TABLE reminder_teams (channel text PRIMARY KEY, channel_sealed bytea,"
        " workspace_sealed bytea NOT NULL, day integer NOT NULL, at text NOT NULL,"
        " active integer NOT NULL, lead text NOT NULL, lead_sealed bytea NOT NULL,"
        " switched_on_at text NOT NULL, updated_at text NOT NULL, problem text)",
        "CREATE TABLE reminder_opt_outs (channel text NOT NULL, channel_sealed bytea,"
        " person text NOT NULL, at text NOT NULL, PRIMARY KEY (channel, person))",
        "CREATE TABLE reminder_ledger (id text PRIMARY KEY, person text NOT NULL,"
        " week text NOT NULL, kind text NOT NULL, channel text NOT NULL, channel_sealed bytea,"
        " recipient_sealed bytea NOT NULL, consent integer NOT NULL, due_at text NOT NULL,"
        " state text NOT NULL CHECK (state IN ('due', 'claimed', 'sent', 'skipped')),"
        " claim_token text, lease_until text, retry_at text,"
        " attempts integer NOT NULL DEFAULT 0, sent_ts text, reason text,"
        " created_at text NOT NULL, updated_at text NOT NULL, UNIQUE (person, week, kind))",
        "CREATE INDEX reminder_ledger_waiting ON reminder_ledger (state, due_at)",
        "CREATE INDEX reminder_ledger_by_channel ON reminder_ledger (channel, week, state)",
        "CREATE INDEX reminder_ledger_by_person ON reminder_ledger (person, channel, state)",
        "CREATE TABLE reminder_profiles (person text PRIMARY KEY, tz_sealed bytea,"
        " deleted integer NOT NULL, is_bot integer NOT NULL, checked_at text NOT NULL)",
        "CREATE INDEX reminder_profiles_by_time ON reminder_profiles (checked_at)",
        "CREATE TABLE reminder_pacing (workspace text PRIMARY KEY,"
        " rate double precision NOT NULL, peak double precision NOT NULL,"
        " next_at double precision NOT NULL,"
        " cut_at double precision NOT NULL, updated_at double precision NOT NULL)",
    )


@MIGRATIONS(name="007_oauth_installations")
def _oauth_installations(conn: Connection) -> None:
    """Slack installations over OAuth (keyed digests; everything Slack gave sealed), OAuth
    states in flight, and organisations' standing after an uninstall (bot.store.installations,
    bot.store.pg_orgs)."""
    _run(
        conn,
        "CREATE TABLE installations (workspace text PRIMARY KEY, installer text,"
        " sealed bytea NOT NULL, saved_at text NOT NULL)",
        "CREATE TABLE oauth_states (digest text PRIMARY KEY, expires_at text NOT NULL)",
        "CREATE TABLE organisations (org text PRIMARY KEY, uninstalled_at timestamptz,"
        " erase_after timestamptz)",
    )


@MIGRATIONS(name="008_weekly_members_and_planner")
def _weekly_members_and_planner(conn: Connection) -> None:
    """The SQLite store's 014: each team's member list, sealed, with when it was read; and
    named leases (one planner at a time). See bot.store.weekly.planning."""
    _run(
        conn,
        "CREATE TABLE reminder_members (channel text PRIMARY KEY, members_sealed bytea NOT NULL,"
        " checked_at text NOT NULL)",
        "CREATE TABLE reminder_leases (name text PRIMARY KEY, holder text NOT NULL,"
        " lease_until text NOT NULL)",
    )


@MIGRATIONS(name="009_weekly_team_installation")
def _weekly_team_installation(conn: Connection) -> None:
    """The SQLite store's 015: which installation a team's weekly reminders were switched on
    through, sealed (NULL for teams switched on before)."""
    _run(conn, "ALTER TABLE reminder_teams ADD COLUMN installation_sealed bytea")


@KEYS_MIGRATIONS(name="002_org_keys")
def _org_keys(conn: Connection) -> None:
    """Each organisation's key, wrapped under the secret; a data key with `org` set is wrapped
    under that organisation's key instead (bot.store.orgs)."""
    _run(
        conn,
        "CREATE TABLE org_keys (org text PRIMARY KEY, wrapped bytea NOT NULL,"
        " created_at timestamptz NOT NULL)",
        "ALTER TABLE data_keys ADD COLUMN org text",
        "CREATE INDEX data_keys_by_org ON data_keys (org)",
    )
