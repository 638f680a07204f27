"""What the PostgreSQL store adds: several processes on one database (each store here has its
own pool, so its own server sessions, exactly as separate processes would), migrations, the
separate keys database, retention and aggregates, and clear errors."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest

from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.replies import Reply, Summary
from bot.engine.sessions import Session
from bot.engine.signposts import load_signposts
from bot.store import pg_schema, stats
from bot.store.errors import StoreError
from bot.store.pg_opening import pending_at
from bot.store.postgres import PostgresStore
from bot.store.privacy import Keyring, new_data_key, row_aad, seal
from bot.store.sqlite import SqliteStore
from tests.conftest import ROOT, Clock
from tests.pg_fixtures import PgUrls
from tests.store.conftest import NOW, SECRET, open_pg, reflection
from tests.store.pg_writers import SHARED, finish_forever
from tests.store.test_engine_on_sqlite import (
    CANARY,
    FIRST_ANSWER,
    LEADER,
    _question,
    answer_to_the_end,
)
from tests.store.test_privacy_both import _raw_values

YEAR_AGO = NOW - dt.timedelta(days=366)
T = TypeVar("T")
#: Every migration, in the order applied: the keys database's, then the data database's.
ALL_MIGRATIONS = [
    "reflect-keys/001_data_keys",
    "reflect-keys/002_org_keys",
    "reflect/001_initial",
    "reflect/002_sealed_answers_access_log_notices_follow_up",
    "reflect/003_seen_requests",
    "reflect/004_organisation_settings",
    "reflect/005_outbox",
    "reflect/006_weekly_reminders",
    "reflect/007_oauth_installations",
    "reflect/008_weekly_members_and_planner",
    "reflect/009_weekly_team_installation",
]


def _in_parallel(count: int, work: Callable[[int], T]) -> list[T]:
    start = threading.Barrier(count)

    def run(n: int) -> T:
        start.wait()
        return work(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


# ---------------------------------------------------------------------- many processes


def test_one_persons_requests_take_turns_across_processes(pg_urls: PgUrls, sam: Person) -> None:
    """Three "processes" each handle a stream of Sam's messages: read the session, change it,
    write it back, in one transaction. With the per-person lock no update is lost."""
    stores = [open_pg(pg_urls, pool_size=2) for _ in range(3)]
    stores[0].save_session(sam, Session("hard-day", "weight", NOW, answers={"count": 0}))
    rounds = 15

    def handle_messages(n: int) -> None:
        store = stores[n]
        for _ in range(rounds):
            with store.writing():
                session = store.load_session(sam)
                assert session is not None
                count = session.answers["count"]
                store.save_session(
                    sam, Session("hard-day", "weight", NOW, answers={"count": count + 1})
                )

    try:
        _in_parallel(3, handle_messages)
        final = stores[1].load_session(sam)
    finally:
        for store in stores:
            store.close()
    assert final is not None and final.answers["count"] == 3 * rounds


def test_different_people_do_not_wait_for_each_other(
    pg_urls: PgUrls, sam: Person, alex: Person
) -> None:
    first, second = open_pg(pg_urls), open_pg(pg_urls)
    try:
        with first.writing():
            first.save_session(sam, Session("hard-day", "weight", NOW))
            # Sam's turn is held by `first`; Alex's request in another process goes ahead.
            done = threading.Event()

            def other() -> None:
                second.save_session(alex, Session("hard-day", "weight", NOW))
                done.set()

            thread = threading.Thread(target=other)
            thread.start()
            assert done.wait(timeout=10)
            thread.join()
    finally:
        first.close()
        second.close()


def test_a_redelivered_event_is_handled_once_across_processes(pg_urls: PgUrls) -> None:
    stores = [open_pg(pg_urls, pool_size=2) for _ in range(4)]
    try:
        for event in ("Ev1", "Ev2", "Ev3"):

            def claim(n: int, event: str = event) -> bool:
                return stores[n].claim_event(event, at=NOW)

            assert sorted(_in_parallel(4, claim)) == [False, False, False, True]
    finally:
        for store in stores:
            store.close()


def test_requests_do_not_queue_behind_each_others_pruning(pg_urls: PgUrls) -> None:
    """Each request's claim prunes expired event ids; a request in flight that is pruning
    them must not hold up another process's request."""
    first, second = open_pg(pg_urls), open_pg(pg_urls)
    later = NOW + dt.timedelta(days=2)
    try:
        assert first.claim_event("EvOld", at=NOW)
        with first.writing():
            assert first.claim_event("EvA", at=later)  # prunes EvOld, holding it till commit
            done = threading.Event()

            def other() -> None:
                second.claim_event("EvB", at=later)
                done.set()

            thread = threading.Thread(target=other)
            thread.start()
            assert done.wait(timeout=5), "the other process waited for this transaction"
            thread.join()
    finally:
        first.close()
        second.close()


def test_a_replayed_request_is_refused_by_every_process(pg_urls: PgUrls) -> None:
    stores = [open_pg(pg_urls, pool_size=2) for _ in range(3)]
    try:

        def claim(n: int) -> bool:
            return stores[n].claim_request("v0=signature-1", at=NOW)

        assert sorted(_in_parallel(3, claim)) == [False, False, True]
        stores[1].release_request("v0=signature-1")  # its handling failed: it may come again
        assert stores[2].claim_request("v0=signature-1", at=NOW)
        later = NOW + dt.timedelta(minutes=12)  # past the signature window: forgotten
        assert stores[0].claim_request("v0=signature-2", at=later)
        with pg_urls.connect() as conn:
            assert conn.execute("SELECT count(*) FROM seen_requests").fetchone() == (1,)
    finally:
        for store in stores:
            store.close()


def test_a_claim_whose_request_failed_is_not_kept(pg_urls: PgUrls, sam: Person) -> None:
    """The claim commits with the request's writes or not at all: if handling fails, Slack's
    redelivery (to any process) is handled."""
    first, second = open_pg(pg_urls), open_pg(pg_urls)
    try:
        with pytest.raises(RuntimeError), first.writing():
            assert first.claim_event("Ev9", at=NOW)
            first.save_session(sam, Session("hard-day", "weight", NOW))
            raise RuntimeError("the process failed mid-request")
        assert second.load_session(sam) is None
        assert second.claim_event("Ev9", at=NOW)
        assert not first.claim_event("Ev9", at=NOW)
    finally:
        first.close()
        second.close()


def test_erasure_waits_for_a_request_in_flight(pg_urls: PgUrls, sam: Person) -> None:
    """`forget` takes the person's turn: a finish in flight in another process commits first
    and is then erased with the rest; nothing of Sam's is left, readable or not."""
    bot, operator = open_pg(pg_urls), open_pg(pg_urls)
    try:
        with bot.writing():
            bot.save_session(sam, Session("hard-day", "weight", NOW))
            erased: list[int] = []
            thread = threading.Thread(target=lambda: erased.append(operator.forget(sam)))
            thread.start()
            thread.join(timeout=0.3)
            assert thread.is_alive()  # waiting for Sam's turn
            bot.finish(sam, reflection())
        thread.join(timeout=10)
        assert erased == [1]
        with pg_urls.connect() as conn:
            for table in ("sessions", "reflections", "events"):
                assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        with pg_urls.connect(keys=True) as conn:
            assert conn.execute("SELECT count(*) FROM data_keys").fetchone() == (0,)
    finally:
        bot.close()
        operator.close()


def test_a_process_killed_mid_request_loses_nothing_and_blocks_no_one(pg_urls: PgUrls) -> None:
    """Two real processes handle one person's requests; one is killed (SIGKILL) at a random
    point. Its open transaction is rolled back by the server and the person's lock released:
    the other carries on, and every request either process reported as done is kept whole."""
    context = multiprocessing.get_context("spawn")
    pipes = [context.Pipe(duplex=False) for _ in range(2)]
    processes = [
        context.Process(
            target=finish_forever, args=(pg_urls.url, pg_urls.keys_url, f"p{n}", pipes[n][1])
        )
        for n in range(2)
    ]
    for process in processes:
        process.start()
    done: list[list[str]] = [[], []]

    def collect(n: int, until: int) -> None:
        deadline = time.monotonic() + 60
        while len(done[n]) < until and time.monotonic() < deadline:
            if pipes[n][0].poll(0.1):
                done[n].append(pipes[n][0].recv())
        assert len(done[n]) >= until, f"process {n} stopped making progress"

    try:
        collect(0, 3)
        collect(1, 3)
        os.kill(processes[0].pid, signal.SIGKILL)  # type: ignore[arg-type]
        processes[0].join(timeout=10)
        while pipes[0][0].poll(0.2):
            done[0].append(pipes[0][0].recv())
        collect(1, len(done[1]) + 3)  # the survivor is not blocked by the dead one's lock
    finally:
        for process in processes:
            if process.is_alive():
                os.kill(process.pid, signal.SIGKILL)  # type: ignore[arg-type]
            process.join(timeout=10)
    while pipes[1][0].poll(0.2):
        done[1].append(pipes[1][0].recv())
    with open_pg(pg_urls) as store:
        kept = {r.id: r for r in store.reflections(SHARED, limit=None)}
    reported = set(done[0]) | set(done[1])
    assert reported <= set(kept)
    assert len(kept) - len(reported) <= 2  # at most each one's last, committed but unreported
    assert all(len(r.answers) == 3 for r in kept.values())


def test_connections_the_server_dropped_are_replaced(
    pg_store: PostgresStore, pg_urls: PgUrls, sam: Person
) -> None:
    """After a database restart or failover, the next request works without a bot restart."""
    pg_store.save_session(sam, Session("hard-day", "weight", NOW))
    with pg_urls.server.admin() as conn:
        dropped = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname IN ('reflect_data', 'reflect_keys') AND pid <> pg_backend_pid()"
        ).fetchone()
    assert dropped is not None and int(str(dropped[0])) >= 2
    assert pg_store.load_session(sam) is not None
    pg_store.finish(sam, reflection())
    assert len(pg_store.reflections(sam)) == 1


def test_a_notice_is_shown_once_across_processes(pg_urls: PgUrls, sam: Person) -> None:
    stores = [open_pg(pg_urls, pool_size=2) for _ in range(3)]
    try:

        def ask(n: int) -> bool:
            return stores[n].first_time(sam, "agreement")

        assert sorted(_in_parallel(3, ask)) == [False, False, True]
        stores[0].forget(sam)
        assert stores[1].first_time(sam, "agreement")  # erasure forgets notices too
    finally:
        for store in stores:
            store.close()


def test_the_access_log_is_append_only_sealed_and_outlives_erasure(
    pg_store: PostgresStore, pg_urls: PgUrls, sam: Person, alex: Person
) -> None:
    pg_store.record_access(sam, action="export", reason="subject access request 7", at=NOW)
    pg_store.record_access(alex, action="forget", reason="erasure request 9", at=NOW)
    pg_store.forget(sam)
    records = pg_store.access_records(sam)
    assert [(r.action, r.reason, r.day) for r in records] == [
        ("export", "subject access request 7", dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    ]
    assert len(pg_store.access_records()) == 2
    with pg_urls.connect() as conn:
        raw = conn.execute("SELECT reason FROM access_log").fetchall()
        assert all(isinstance(row[0], bytes) and b"request" not in row[0] for row in raw)
        for statement in ("DELETE FROM access_log", "UPDATE access_log SET action = 'x'"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)


# ---------------------------------------------------------------------- migrations


def test_a_new_database_is_migrated_once(pg_empty_urls: PgUrls) -> None:
    assert pending_at(pg_empty_urls.url, keys_url=pg_empty_urls.keys_url) == ALL_MIGRATIONS
    with open_pg(pg_empty_urls) as store:
        assert store.applied_migrations == ALL_MIGRATIONS
    with open_pg(pg_empty_urls) as store:
        assert store.applied_migrations == []
    assert pending_at(pg_empty_urls.url, keys_url=pg_empty_urls.keys_url) == []


def test_processes_starting_together_migrate_once(pg_empty_urls: PgUrls, sam: Person) -> None:
    def opening(n: int) -> PostgresStore:
        return open_pg(pg_empty_urls, pool_size=1)

    stores = _in_parallel(3, opening)
    try:
        # Each database is migrated by whichever process takes its lock first; every migration
        # is applied exactly once in all.
        applied = [name for store in stores for name in store.applied_migrations]
        assert sorted(applied) == sorted(ALL_MIGRATIONS)
        stores[0].finish(sam, reflection(summary="one store"))
        assert [r.summary for r in stores[2].reflections(sam)] == ["one store"]
    finally:
        for store in stores:
            store.close()


def test_a_release_one_database_is_upgraded_and_its_clear_rows_sealed(
    pg_empty_urls: PgUrls, sam: Person
) -> None:
    """Release 1 of this store kept choice and scale answers, and events, in clear, with
    times: migration 002 and the opening seal them and cut times to days."""
    release_one = pg_schema.PgMigrations("reflect")
    release_one.steps = pg_schema.MIGRATIONS.steps[:1]
    keyring = Keyring(SECRET)
    who = keyring.pseudonym(sam.id)
    key = new_data_key()
    with pg_empty_urls.connect(keys=True) as conn:
        pg_schema.migrate(conn, [pg_schema.KEYS_MIGRATIONS])
        conn.execute(
            "INSERT INTO data_keys VALUES (%s, %s, %s)",
            [who, keyring.wrap(key, pseudonym=who), NOW],
        )
    with pg_empty_urls.connect() as conn:
        pg_schema.migrate(conn, [release_one])
        summary = seal(
            key, b"kept since release 1", aad=row_aad("reflections", "r1", who, "summary")
        )
        conn.execute(
            "INSERT INTO reflections (id, pseudonym, flow_id, started_at, finished_at, summary)"
            " VALUES ('r1', %s, 'hard-day', %s, %s, %s)",
            [who, NOW, NOW, summary],
        )
        conn.execute(
            "INSERT INTO answers VALUES ('r1', 'weight', 0, 'scale', '2', NULL),"
            " ('r1', 'need', 1, 'choice', '\"rest\"', NULL)"
        )
        conn.execute(
            "INSERT INTO events (pseudonym, event, flow_id, at) VALUES"
            " (%s, 'signpost_shown', NULL, %s), (%s, 'nudge_shown', 'hard-day', %s)",
            [who, NOW, who, NOW],
        )
    with open_pg(pg_empty_urls) as store:
        assert store.applied_migrations == ALL_MIGRATIONS[3:]
        (kept,) = store.reflections(sam)
        assert [(a.step_id, a.value) for a in kept.answers] == [("weight", 2), ("need", "rest")]
        midnight = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
        assert store.last_event(sam, "signpost_shown") == midnight
        assert store.last_event(sam, "nudge_shown") == midnight
    with pg_empty_urls.connect() as conn:
        assert conn.execute("SELECT count(*) FROM answers WHERE value IS NOT NULL").fetchone() == (
            0,
        )
        events = conn.execute("SELECT event, flow_id FROM events ORDER BY id").fetchall()
        assert events == [("sealed", None), ("sealed", None)]


def test_a_store_that_may_not_migrate_says_what_to_run(pg_empty_urls: PgUrls) -> None:
    with pytest.raises(StoreError, match="reflect db migrate"):
        open_pg(pg_empty_urls, migrate=False)


def test_another_modules_tables_are_migrated_and_erased(pg_empty_urls: PgUrls, sam: Person) -> None:
    extra = pg_schema.PgMigrations("test-extra")

    @extra(name="001_notes")
    def _notes(conn: psycopg.Connection[object]) -> None:
        conn.execute("CREATE TABLE extra_notes (person text PRIMARY KEY)")

    def erase(conn: psycopg.Connection[object], who: str) -> None:
        conn.execute("DELETE FROM extra_notes WHERE person = %s", [who])

    with pytest.raises(ValueError, match="after"):
        extra(name="000_too_early")(_notes)
    pg_schema.register_eraser(erase)
    try:
        with open_pg(pg_empty_urls, migrations=[extra]) as store:
            assert store.applied_migrations[-1] == "test-extra/001_notes"
            with store.writing() as conn:
                conn.execute("INSERT INTO extra_notes VALUES (%s)", [store.pseudonym(sam)])
            store.forget(sam)
            with store.reading() as conn:
                assert conn.execute("SELECT count(*) FROM extra_notes").fetchone() == (0,)
    finally:
        pg_schema.ERASERS.remove(erase)


def test_the_released_migrations_make_this_schema(pg_urls: PgUrls) -> None:
    """The columns migrations 001 to 005 and 007 make, as released: a change to the schema is a
    new migration, never an edit to these. (The weekly reminders' tables, 006, are checked
    against SQLite's in tests/weekly/test_schema.py.)"""
    with pg_urls.connect() as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name <> 'reflect_migrations'"
            " AND table_name NOT LIKE 'reminder%%'"
            " ORDER BY table_name, ordinal_position",
            [pg_urls.schema],
        ).fetchall()
    assert [f"{t}.{c}:{d}" for t, c, d in columns] == [
        "access_log.id:bigint",
        "access_log.pseudonym:text",
        "access_log.action:text",
        "access_log.reason:bytea",
        "access_log.day:timestamp with time zone",
        "answers.reflection_id:text",
        "answers.step_id:text",
        "answers.position:integer",
        "answers.kind:text",
        "answers.value:text",
        "answers.sealed:bytea",
        "answers.scale:text",
        "events.id:bigint",
        "events.pseudonym:text",
        "events.event:text",
        "events.flow_id:text",
        "events.at:timestamp with time zone",
        "events.sealed:bytea",
        "installations.workspace:text",
        "installations.installer:text",
        "installations.sealed:bytea",
        "installations.saved_at:text",
        "meta.key:text",
        "meta.value:text",
        "notices.pseudonym:text",
        "notices.notice:text",
        "oauth_states.digest:text",
        "oauth_states.expires_at:text",
        "organisation_members.organisation:text",
        "organisation_members.pseudonym:text",
        "organisation_settings.organisation:text",
        "organisation_settings.name:text",
        "organisation_settings.value:bytea",
        "organisation_settings.updated_at:text",
        "organisations.org:text",
        "organisations.uninstalled_at:timestamp with time zone",
        "organisations.erase_after:timestamp with time zone",
        "outbox.id:bigint",
        "outbox.pseudonym:text",
        "outbox.delivery:text",
        "outbox.sealed:bytea",
        "outbox.created_at:timestamp with time zone",
        "outbox.lease_until:timestamp with time zone",
        "outbox.claim_token:text",
        "outbox.attempts:integer",
        "preferences.pseudonym:text",
        "preferences.name:text",
        "preferences.value:text",
        "reflections.id:text",
        "reflections.seq:bigint",
        "reflections.pseudonym:text",
        "reflections.flow_id:text",
        "reflections.started_at:timestamp with time zone",
        "reflections.finished_at:timestamp with time zone",
        "reflections.summary:bytea",
        "reflections.next_step:text",
        "reflections.follow_up:text",
        "seen_events.digest:text",
        "seen_events.at:timestamp with time zone",
        "seen_requests.digest:text",
        "seen_requests.at:timestamp with time zone",
        "sessions.pseudonym:text",
        "sessions.flow_id:text",
        "sessions.state:bytea",
        "sessions.updated_at:timestamp with time zone",
    ]


# ---------------------------------------------------------------------- the keys database


def test_keys_in_the_data_database_are_refused(pg_urls: PgUrls) -> None:
    with pytest.raises(StoreError, match="same database"):
        PostgresStore.open(pg_urls.url, keys_url=pg_urls.url, secret=SECRET)


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    url = "postgresql://reflect:hunter2-not-real@/reflect?host=/nonexistent-socket-dir"
    with pytest.raises(StoreError) as caught:
        PostgresStore.open(url, keys_url=url.replace("/reflect?", "/keys?"), secret=SECRET)
    message = str(caught.value)
    assert "Cannot connect to PostgreSQL" in message and "\n" not in message
    assert "hunter2" not in message


# ---------------------------------------------------------------------- retention, aggregates


def test_people_purged_entirely_lose_their_key(pg_urls: PgUrls, sam: Person, alex: Person) -> None:
    with open_pg(pg_urls, clock=lambda: YEAR_AGO) as store:
        store.finish(sam, reflection(at=YEAR_AGO))
        store.finish(alex, reflection(at=YEAR_AGO))
        store.save_session(alex, Session("hard-day", "weight", YEAR_AGO))
    with open_pg(pg_urls, clock=lambda: NOW) as store:
        store.finish(alex, reflection(at=NOW, summary="alex now"))
        assert store.purge(older_than=NOW - dt.timedelta(days=365)) == 2
        assert store.load_session(alex) is None
        assert [r.summary for r in store.reflections(alex)] == ["alex now"]
    with pg_urls.connect(keys=True) as conn:
        assert conn.execute("SELECT count(*) FROM data_keys").fetchone() == (1,)


def test_a_slack_event_is_remembered_for_a_day(pg_store: PostgresStore, pg_urls: PgUrls) -> None:
    assert pg_store.claim_event("Ev01", at=NOW)
    assert not pg_store.claim_event("Ev01", at=NOW + dt.timedelta(minutes=5))
    assert pg_store.claim_event("Ev03", at=NOW + dt.timedelta(days=1, minutes=10))
    with pg_urls.connect() as conn:
        assert conn.execute("SELECT count(*) FROM seen_events").fetchone() == (1,)


def test_who_reflected_and_the_report_match_sqlite(
    pg_store: PostgresStore, tmp_path: Path, sam: Person
) -> None:
    monday = dt.datetime(2026, 11, 9, 12, tzinfo=dt.UTC)
    sqlite_store = SqliteStore.open(tmp_path / "reflect.db", secret=SECRET)
    try:
        for store in (pg_store, sqlite_store):
            for n in range(7):
                person = Person(f"T1:U{n}")
                store.finish(person, reflection(at=monday, scale=2 if n < 3 else 4))
                store.record(person, "nudge_shown", at=monday, flow_id="hard-day")
                store.record(person, "signpost_shown", at=monday)
                if n < 5:
                    store.record(person, "nudge_followed", at=monday)
            store.finish(sam, reflection(flow_id="weekly-check-in", at=monday))
        week = {"since": monday - dt.timedelta(days=1), "until": monday + dt.timedelta(days=1)}
        assert pg_store.people_who_reflected(flow_id="weekly-check-in", **week) == {
            pg_store.pseudonym(sam)
        }
        assert len(pg_store.people_who_reflected(flow_id=None, **week)) == 8
        reports = [
            stats.report(store, weeks=2, min_group_size=5, now=monday + dt.timedelta(days=9))
            for store in (pg_store, sqlite_store)
        ]
    finally:
        sqlite_store.close()
    rows = reports[0].rows()
    assert rows == reports[1].rows()
    assert {(r["measure"], r["shown"]) for r in rows} >= {("reflections", "7")}
    assert any(r["measure"] == "scale" and r["count"] for r in rows)


# ---------------------------------------------------------------------- the engine on it


def test_a_flow_walked_request_by_request_survives_a_restart(
    pg_urls: PgUrls, hard_day: Flow
) -> None:
    """As the Slack app does: each message is one writing transaction around the engine."""

    def say(store: PostgresStore, talk: Conversations, text: str) -> list[Reply]:
        with store.writing():
            return talk.receive(LEADER, text)

    def _conversations(store: PostgresStore, flow: Flow) -> Conversations:
        return Conversations(
            library=FlowLibrary([flow]),
            store=store,
            signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
            clock=Clock(),
        )

    with open_pg(pg_urls) as store:
        talk = _conversations(store, hard_day)
        with store.writing():
            first = _question(talk.start(LEADER, hard_day.id))
        assert first is not None and first.step_kind == "text"
        second = _question(say(store, talk, FIRST_ANSWER))
        say(store, talk, "pause")

    with open_pg(pg_urls) as store:  # the bot restarted (or another process took over)
        talk = _conversations(store, hard_day)
        question = _question(say(store, talk, "resume"))
        assert question is not None and second is not None
        assert question.step_id == second.step_id
        replies = answer_to_the_end(question, lambda text: say(store, talk, text))
        (summary,) = [r for r in replies if isinstance(r, Summary)]
        (kept,) = store.reflections(LEADER)

    assert kept.id == summary.reflection_id
    assert kept.answers[0].value == f"{CANARY}: the family rang [phone] twice"
    assert "07911 123456" in summary.text and "07911" not in kept.summary
    raw = _raw_values(pg_urls, keys=False) + _raw_values(pg_urls, keys=True)
    assert CANARY.encode() not in raw and b"U0MANAGER" not in raw
