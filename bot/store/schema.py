"""The database schema, as sqlite-utils migrations that upgrade an older file in place.

Migrations are named and applied in order, each in its own savepoint inside one BEGIN IMMEDIATE
transaction (so two processes opening a new database at once cannot both apply them). Applied
names are recorded in `_sqlite_migrations`; a migration, once released, is never edited: add a
new one.

Every table lives here, the weekly reminders' too (004): one numbered list, applied on every
`SqliteStore.open`. Keep Slack ids out of it: store `Keyring.pseudonym(...)` or values sealed with
`Keyring.seal(...)`. Times are fixed-width ISO text in UTC (bot.store.times).

The data keys live in a separate file (see bot.store.database) with a two-table schema of its
own, created if missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlite_utils
from sqlite_utils.migrations import Migrations

#: The store's own tables.
MIGRATIONS = Migrations("reflect")


def migrate(db: sqlite_utils.Database, *, extra: Iterable[Migrations] = ()) -> None:
    """Apply every pending migration: the store's, then `extra` (tests)."""
    for migrations in (MIGRATIONS, *extra):
        migrations.apply(db)


def _run(db: sqlite_utils.Database, *statements: str) -> None:
    for statement in statements:
        db.execute(statement)


@MIGRATIONS(name="001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    """Sessions, reflections, their answers and content-free events, keyed by pseudonym."""
    _run(
        db,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # state: Session.to_json(), sealed under the person's data key
        "CREATE TABLE sessions (pseudonym TEXT PRIMARY KEY, flow_id TEXT NOT NULL,"
        " state BLOB NOT NULL, updated_at TEXT NOT NULL)",
        # summary: the rendered summary, redacted and sealed
        "CREATE TABLE reflections (id TEXT PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " flow_id TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,"
        " summary BLOB NOT NULL)",
        "CREATE INDEX reflections_by_person ON reflections (pseudonym, finished_at)",
        # value: JSON for scale, choice and multi answers (in clear, for aggregates);
        # sealed: JSON of a free-text answer, redacted and sealed
        "CREATE TABLE answers (reflection_id TEXT NOT NULL"
        " REFERENCES reflections (id) ON DELETE CASCADE, step_id TEXT NOT NULL,"
        " position INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT, sealed BLOB,"
        " PRIMARY KEY (reflection_id, step_id))",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " event TEXT NOT NULL, flow_id TEXT, at TEXT NOT NULL)",
        "CREATE INDEX events_by_person ON events (pseudonym, event, at)",
    )


@MIGRATIONS(name="002_seen_events")
def _seen_events(db: sqlite_utils.Database) -> None:
    """Slack event ids already handled (as keyed digests), to drop Slack's retries."""
    _run(
        db,
        "CREATE TABLE seen_events (digest TEXT PRIMARY KEY, at TEXT NOT NULL)",
        "CREATE INDEX seen_events_by_time ON seen_events (at)",
    )


@MIGRATIONS(name="003_time_indexes")
def _time_indexes(db: sqlite_utils.Database) -> None:
    """Indexes for retention and weekly aggregates."""
    _run(
        db,
        "CREATE INDEX reflections_by_time ON reflections (finished_at, flow_id)",
        "CREATE INDEX events_by_time ON events (at, event)",
        "CREATE INDEX sessions_by_time ON sessions (updated_at)",
    )


@MIGRATIONS(name="004_weekly_reminders")
def _weekly_reminders(db: sqlite_utils.Database) -> None:
    """The weekly reminders' teams, opt-outs and ledger, moved into the store: the tables an
    earlier release kept beside it (weekly_*, REAL epoch seconds) are copied over with their
    times as ISO text, then dropped. Their cached Slack time zones are not kept."""
    _run(
        db,
        "CREATE TABLE reminder_teams (channel TEXT PRIMARY KEY, workspace_sealed BLOB NOT NULL,"
        " day INTEGER NOT NULL, at TEXT NOT NULL, active INTEGER NOT NULL, lead TEXT NOT NULL,"
        " lead_sealed BLOB NOT NULL, switched_on_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
        " problem TEXT)",
        "CREATE TABLE reminder_opt_outs (channel TEXT NOT NULL, person TEXT NOT NULL,"
        " at TEXT NOT NULL, PRIMARY KEY (channel, person))",
        "CREATE TABLE reminder_ledger (id TEXT PRIMARY KEY, person TEXT NOT NULL,"
        " week TEXT NOT NULL, kind TEXT NOT NULL, channel TEXT NOT NULL,"
        " recipient_sealed BLOB NOT NULL, consent INTEGER NOT NULL, due_at TEXT NOT NULL,"
        " state TEXT NOT NULL CHECK (state IN ('due', 'claimed', 'sent', 'skipped')),"
        " claim_token TEXT, lease_until TEXT, retry_at TEXT,"
        " attempts INTEGER NOT NULL DEFAULT 0, sent_ts TEXT, reason TEXT,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (person, week, kind))",
        "CREATE INDEX reminder_ledger_waiting ON reminder_ledger (state, due_at)",
        "CREATE INDEX reminder_ledger_by_channel ON reminder_ledger (channel, week, state)",
        "CREATE INDEX reminder_ledger_by_person ON reminder_ledger (person, channel, state)",
    )
    old = set(db.table_names())
    copies = {
        "weekly_teams": ("reminder_teams", ("switched_on_at", "updated_at")),
        "weekly_opt_outs": ("reminder_opt_outs", ("at",)),
        "weekly_deliveries": (
            "reminder_ledger",
            ("due_at", "lease_until", "retry_at", "created_at", "updated_at"),
        ),
    }
    for source, (target, times) in copies.items():
        if source not in old:
            continue
        cursor = db.execute(f"SELECT * FROM {source}")
        names = [column[0] for column in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            for name in times:
                if row[name] is not None:
                    moment = dt.datetime.fromtimestamp(row[name], dt.UTC)
                    row[name] = moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            db.execute(f"INSERT INTO {target} ({columns}) VALUES ({marks})", list(row.values()))
    for table in ("weekly_deliveries", "weekly_opt_outs", "weekly_teams", "weekly_people"):
        db.execute(f"DROP TABLE IF EXISTS {table}")


@MIGRATIONS(name="005_minimised_events_and_access_log")
def _minimised_events_and_access_log(db: sqlite_utils.Database) -> None:
    """Events keep a date, not a time, and the sensitive ones (crisis support shown, a firm
    supervisor suggestion) are sealed under the person's key (`sealed`, with `event` set to
    'sealed'); the store seals older clear rows, and clear choice answers, when it opens.

    `access_log`: what the server's operator did to one person's data (export, erase...), on
    which day and why (the reason sealed under the service key). Append-only: rows can be
    neither changed nor deleted."""
    _run(
        db,
        "ALTER TABLE events ADD COLUMN sealed BLOB",
        "UPDATE events SET at = substr(at, 1, 10) || 'T00:00:00.000000+00:00'",
        "CREATE TABLE access_log (id INTEGER PRIMARY KEY, pseudonym TEXT NOT NULL,"
        " action TEXT NOT NULL, reason BLOB NOT NULL, day TEXT NOT NULL)",
        "CREATE INDEX access_log_by_person ON access_log (pseudonym, id)",
        "CREATE TRIGGER access_log_append_only_update BEFORE UPDATE ON access_log"
        " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
        "CREATE TRIGGER access_log_append_only_delete BEFORE DELETE ON access_log"
        " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
    )


@MIGRATIONS(name="006_notices")
def _notices(db: sqlite_utils.Database) -> None:
    """Which one-time notices a person has been shown (the first-use agreement, what typing in
    the DM means), so each is said once. No time, no content; erased by `forget`."""
    _run(
        db,
        "CREATE TABLE notices (pseudonym TEXT NOT NULL, notice TEXT NOT NULL,"
        " PRIMARY KEY (pseudonym, notice))",
    )


@MIGRATIONS(name="007_scale_marks_and_follow_up")
def _scale_marks_and_follow_up(db: sqlite_utils.Database) -> None:
    """Scale answers say how they read (bounds and heavy end). Every one kept before this was
    from a scale running 1..5 with its heavy end at 1, and is marked so. Reflections say which
    answer is the leader's next step and what became of it; people's settings (follow-up)."""
    _run(
        db,
        # scale: JSON {"min": 1, "max": 5, "heavy": "max"} for scale answers, else NULL
        "ALTER TABLE answers ADD COLUMN scale TEXT",
        'UPDATE answers SET scale = \'{"min": 1, "max": 5, "heavy": "min"}\''
        " WHERE kind = 'scale'",
        # next_step: the step id of the answer to ask about next time;
        # follow_up: open, carried, done or dropped (NULL: no next step written)
        "ALTER TABLE reflections ADD COLUMN next_step TEXT",
        "ALTER TABLE reflections ADD COLUMN follow_up TEXT",
        "CREATE INDEX reflections_follow_up ON reflections (pseudonym, follow_up, finished_at)",
        "CREATE TABLE preferences (pseudonym TEXT NOT NULL, name TEXT NOT NULL,"
        " value TEXT NOT NULL, PRIMARY KEY (pseudonym, name))",
    )


@MIGRATIONS(name="008_seen_requests")
def _seen_requests(db: sqlite_utils.Database) -> None:
    """Signed Slack requests already handled (keyed digests of their signatures), so that one
    replayed within the signature window is not acted on twice, whichever process gets it."""
    _run(
        db,
        "CREATE TABLE seen_requests (digest TEXT PRIMARY KEY, at TEXT NOT NULL)",
        "CREATE INDEX seen_requests_by_time ON seen_requests (at)",
    )


@MIGRATIONS(name="009_weekly_channels_keyed")
def _weekly_channels_keyed(db: sqlite_utils.Database) -> None:
    """The weekly reminders' tables keep a team's channel as a keyed digest (in `channel`) and
    the channel id itself only sealed under the service key (`channel_sealed`), so the file
    alone links no pseudonym to a channel. A migration has no keys: rows still holding a clear
    channel id (`channel_sealed` NULL) are converted when the store opens (bot.store.upgrade)."""
    _run(
        db,
        "ALTER TABLE reminder_teams ADD COLUMN channel_sealed BLOB",
        "ALTER TABLE reminder_opt_outs ADD COLUMN channel_sealed BLOB",
        "ALTER TABLE reminder_ledger ADD COLUMN channel_sealed BLOB",
    )


@MIGRATIONS(name="010_organisation_settings")
def _organisation_settings(db: sqlite_utils.Database) -> None:
    """Each organisation's own settings (bot.store.organisations): the organisation as a keyed
    digest of its team or enterprise id, each setting's text sealed under the service key; and
    which pseudonyms belong to which organisation, for its retention period."""
    _run(
        db,
        "CREATE TABLE organisation_settings (organisation TEXT NOT NULL, name TEXT NOT NULL,"
        " value BLOB NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (organisation, name))",
        "CREATE TABLE organisation_members (organisation TEXT NOT NULL, pseudonym TEXT NOT NULL,"
        " PRIMARY KEY (organisation, pseudonym))",
        "CREATE INDEX organisation_members_by_person ON organisation_members (pseudonym)",
    )


@MIGRATIONS(name="011_outbox")
def _outbox(db: sqlite_utils.Database) -> None:
    """The replies of a step, written with it and deleted once posted (bot.store.outbox). Each
    row is one Slack call to make: sealed under the person's data key, with its delivery key
    (put in the message's metadata, so that a post Slack may have taken is looked for before it
    is made again). A claim leases the row; `attempts` > 1 means it may be in Slack already."""
    _run(
        db,
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, pseudonym TEXT NOT NULL,"
        " delivery TEXT NOT NULL UNIQUE, sealed BLOB NOT NULL, created_at TEXT NOT NULL,"
        " lease_until TEXT, claim_token TEXT, attempts INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX outbox_by_person ON outbox (pseudonym, id)",
    )


@MIGRATIONS(name="012_weekly_profiles_and_pacing")
def _weekly_profiles_and_pacing(db: sqlite_utils.Database) -> None:
    """What Slack said of a reminder's recipient (kept, so every process and every restart
    shares one lookup a day): their time zone sealed under the service key, and whether they
    are deactivated or a bot; and the shared pace of each workspace's reminder posts (keyed
    digest of the workspace id; times in epoch seconds of the senders' clock)."""
    _run(
        db,
        "CREATE TABLE reminder_profiles (person TEXT PRIMARY KEY, tz_sealed BLOB,"
        " deleted INTEGER NOT NULL, is_bot INTEGER NOT NULL, checked_at TEXT NOT NULL)",
        "CREATE INDEX reminder_profiles_by_time ON reminder_profiles (checked_at)",
        "CREATE TABLE reminder_pacing (workspace TEXT PRIMARY KEY, rate REAL NOT NULL,"
        " peak REAL NOT NULL, next_at REAL NOT NULL, cut_at REAL NOT NULL,"
        " updated_at REAL NOT NULL)",
    )


def ensure_keys_schema(db: sqlite_utils.Database, *, schema: str) -> None:
    """The keys file's tables: its identity, the wrapped data keys and the organisation keys.

    A data key with `org` set is sealed under that organisation's key (a keyed digest of its
    Slack id, see bot.store.orgs); one without, directly under the secret."""
    _run(
        db,
        f"CREATE TABLE IF NOT EXISTS {schema}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {schema}.data_keys (pseudonym TEXT PRIMARY KEY,"
        " wrapped BLOB NOT NULL, created_at TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {schema}.org_keys (org TEXT PRIMARY KEY,"
        " wrapped BLOB NOT NULL, created_at TEXT NOT NULL)",
    )
    columns = {row[1] for row in db.execute(f"PRAGMA {schema}.table_info(data_keys)").fetchall()}
    if "org" not in columns:
        _run(
            db,
            f"ALTER TABLE {schema}.data_keys ADD COLUMN org TEXT",
            f"CREATE INDEX IF NOT EXISTS {schema}.data_keys_by_org ON data_keys (org)",
        )


@MIGRATIONS(name="013_oauth_installations")
def _oauth_installations(db: sqlite_utils.Database) -> None:
    """Slack installations over OAuth, one per workspace or Grid organisation (`workspace`: a
    keyed digest of its id; everything Slack gave, tokens included, sealed under the service
    key in `sealed`); the OAuth states in flight (keyed digests, until they expire); and each
    organisation's standing (`org`: a keyed digest): uninstalled when, and erased after when."""
    _run(
        db,
        "CREATE TABLE installations (workspace TEXT PRIMARY KEY, installer TEXT,"
        " sealed BLOB NOT NULL, saved_at TEXT NOT NULL)",
        "CREATE TABLE oauth_states (digest TEXT PRIMARY KEY, expires_at TEXT NOT NULL)",
        "CREATE TABLE organisations (org TEXT PRIMARY KEY, uninstalled_at TEXT, erase_after TEXT)",
    )


@MIGRATIONS(name="014_weekly_members_and_planner")
def _weekly_members_and_planner(db: sqlite_utils.Database) -> None:
    """What the planners of several processes share (bot.store.weekly.planning): each team's
    member list as Slack last gave it, sealed under the service key, with when it was read;
    and named leases (one planner at a time)."""
    _run(
        db,
        "CREATE TABLE reminder_members (channel TEXT PRIMARY KEY, members_sealed BLOB NOT NULL,"
        " checked_at TEXT NOT NULL)",
        "CREATE TABLE reminder_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL,"
        " lease_until TEXT NOT NULL)",
    )


@MIGRATIONS(name="015_weekly_team_installation")
def _weekly_team_installation(db: sqlite_utils.Database) -> None:
    """Which installation a team's weekly reminders were switched on through (its key, sealed
    under the service key like the workspace: bot.slack.identity.installation_key), so that
    they are sent with its token. NULL for teams switched on before: their workspace's."""
    _run(db, "ALTER TABLE reminder_teams ADD COLUMN installation_sealed BLOB")
