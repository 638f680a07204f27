"""GET /healthz as `reflect run --http` serves it: 200 while the databases answer, 503 while
they do not (a load balancer then sends requests to the other processes), 200 again after."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from slack_bolt import App

from bot.slack.serving.http import HttpServer
from bot.slack.serving.launch import database_answers
from bot.store import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.pg_server import PgServer

SECRET = b"health-secret-0123456789-abcdefghijklmno"


@contextmanager
def _serving(store: Store) -> Iterator[httpx.Client]:
    app = App(
        token="xoxb-test",
        signing_secret="s" * 32,
        token_verification_enabled=False,
        request_verification_enabled=False,
    )
    server = HttpServer(app=app, port=0, threads=2, ready=database_answers(store))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            yield client
    finally:
        server.stop(wait=10)
        thread.join(timeout=10)


def _health(client: httpx.Client) -> tuple[int, str]:
    answer = client.get("/healthz")
    return answer.status_code, answer.text.strip()


def test_healthz_follows_the_sqlite_store(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "reflect.db", secret=SECRET)
    with _serving(store) as client:
        assert _health(client) == (200, "ok")
        store.close()  # what a store that can no longer be read looks like
        assert _health(client) == (503, "unavailable")


def _allow_connections(server: PgServer, names: list[str], *, allowed: bool) -> None:
    with server.admin() as admin:
        for name in names:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            if not allowed:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [name],
                )


def test_healthz_fails_while_postgres_refuses_and_recovers(
    pg_server_session: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = pg_server_session
    names = [server.create_database("health"), server.create_database("health_keys")]
    store = PostgresStore.open(
        server.url(names[0]), keys_url=server.url(names[1]), secret=SECRET, pool_size=2
    )
    try:
        with _serving(store) as client:
            assert _health(client) == (200, "ok")
            _allow_connections(server, names, allowed=False)
            assert _health(client) == (503, "unavailable")
            assert "health check failing" in caplog.text
            _allow_connections(server, names, allowed=True)
            deadline = time.monotonic() + 20
            while _health(client) != (200, "ok"):
                assert time.monotonic() < deadline, "the health check did not recover"
                time.sleep(0.2)
            assert "health check passing again" in caplog.text
    finally:
        store.close()
        _allow_connections(server, names, allowed=True)
        for name in names:
            server.drop_database(name)
