"""Renewing a token once across processes: Slack's refresh tokens are good for one use (the
fake Slack refuses a spent one), so when two bot processes find the same token near expiry at
the same moment, one renews it and the other uses the new one.

Two real OS processes, each with its own store connections, race on one SQLite file and on
one PostgreSQL: one through Bolt's authorisation (a request), one outside a request (the
weekly reminders' scheduler), while Slack is slow to answer the renewal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.engine.clock import utcnow
from bot.store.installations import Installations
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.cli_env import SECRET
from tests.pg_fixtures import PgUrls
from tests.slack.fake_slack import FakeSlack, User
from tests.slack.harness import Served
from tests.slack.installs import install, oauth_bot

ROOT = Path(__file__).resolve().parents[2]
TEAM, INSTALLER = "TREFRESH01", "UREFRESH01"


@pytest.fixture
def people() -> tuple[User, ...]:
    return (User(INSTALLER, TEAM),)


def _install_with_expiring_token(fake: FakeSlack, tmp_path: Path, store: Any) -> None:
    """TEAM installs with a token that expires within the two-hour margin: the next use
    renews it."""
    fake.token_lifetime = 3600
    with oauth_bot(fake, tmp_path / "installer", store=store) as bot:
        served = Served(bot.app)
        try:
            with httpx.Client(base_url=served.url) as browser:
                assert install(browser, fake, TEAM, installer=INSTALLER).status_code == 200
        finally:
            served.close()
    fake.token_lifetime = 43200


Started = list[tuple[subprocess.Popen[str], Path]]


def _start(fake: FakeSlack, tmp_path: Path, database: list[str]) -> Started:
    """Two processes on the database, ready to ask for TEAM's token when told to."""
    go = tmp_path / "go"
    started: Started = []
    for number, via in enumerate(("request", "scheduler")):
        ready = tmp_path / f"ready{number}"
        command = [sys.executable, "-m", "tests.slack.refresh_process", *database]
        command += ["--slack", fake.url, "--client-id", fake.client_id]
        command += ["--client-secret", fake.client_secret, "--team", TEAM, "--via", via]
        command += ["--ready", str(ready), "--go", str(go)]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        started.append((process, ready))
    return started


def _race(tmp_path: Path, fake: FakeSlack, started: Started) -> list[dict[str, Any]]:
    """The processes ask for TEAM's token at one moment; what each printed."""
    go = tmp_path / "go"
    deadline = time.monotonic() + 60
    while not all(ready.exists() for _, ready in started):
        for process, _ in started:
            assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the processes did not start"
        time.sleep(0.02)
    # Slack takes half a second to renew: long enough for both to be asking at once.
    fake.fail("oauth.v2.access", delay=0.5, times=2)
    go.touch()
    printed = []
    for process, _ in started:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        printed.append(json.loads(out.strip().splitlines()[-1]))
    return printed


def _renewed_once(fake: FakeSlack, printed: list[dict[str, Any]], first: str) -> None:
    renewals = [c for c in fake.calls("oauth.v2.access") if c.args.get("grant_type")]
    newest = fake.tokens_of(TEAM)[-1]
    assert printed == [{"token": newest}, {"token": newest}]
    assert newest != first
    assert len(renewals) == 1  # the second process waited, and found the new token


def test_two_processes_on_one_sqlite_file_renew_a_token_once(
    fake: FakeSlack, tmp_path: Path
) -> None:
    path = tmp_path / "data" / "reflect.db"
    with SqliteStore.open(path, secret=SECRET.encode()) as store:
        started = _start(fake, tmp_path, ["--db", str(path)])  # they start while TEAM installs
        _install_with_expiring_token(fake, tmp_path, store)
    first = fake.tokens_of(TEAM)[-1]
    _renewed_once(fake, _race(tmp_path, fake, started), first)


def test_two_processes_on_one_postgresql_renew_a_token_once(
    fake: FakeSlack, tmp_path: Path, pg_urls: PgUrls
) -> None:
    store = PostgresStore.open(
        pg_urls.url, keys_url=pg_urls.keys_url, secret=SECRET.encode(), pool_size=2
    )
    with store:
        started = _start(fake, tmp_path, ["--pg", pg_urls.url, "--keys-url", pg_urls.keys_url])
        _install_with_expiring_token(fake, tmp_path, store)
    first = fake.tokens_of(TEAM)[-1]
    _renewed_once(fake, _race(tmp_path, fake, started), first)


@pytest.fixture(params=["sqlite", "postgres"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """Two stores on one database, each with its own connections (as two processes)."""
    opened: list[Any]
    if request.param == "postgres":
        urls: PgUrls = request.getfixturevalue("pg_urls")
        opened = [
            PostgresStore.open(
                urls.url, keys_url=urls.keys_url, secret=SECRET.encode(), pool_size=2
            )
            for _ in range(2)
        ]
    else:
        path = tmp_path / "reflect.db"
        opened = [SqliteStore.open(path, secret=SECRET.encode()) for _ in range(2)]
    yield opened[0], opened[1]
    for store in opened:
        store.close()


def test_an_uninstall_waits_for_a_renewal_under_way(two_stores: tuple[Any, Any]) -> None:
    """Otherwise the renewal would save the installation again after it was deleted."""
    renewing, uninstalling = (Installations(store, clock=utcnow) for store in two_stores)
    key = f"team:{TEAM}"
    renewing.save(key, {"bot_token": "old"}, installer=None)
    with renewing.refreshing(key):
        deleting = threading.Thread(target=uninstalling.delete, args=[key])
        deleting.start()
        deleting.join(0.3)
        assert deleting.is_alive()  # waiting for the renewal
        renewing.save(key, {"bot_token": "renewed"}, installer=None)
    deleting.join(10)
    assert not deleting.is_alive()
    assert renewing.find(key) is None and uninstalling.find(key) is None
