"""The tests' throwaway PostgreSQL server: either source of binaries starts a working server
on a Unix socket in a folder of its own, and nothing is left behind."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests import pg_server
from tests.pg_fixtures import without_postgres


def test_an_unknown_choice_of_binaries_is_refused() -> None:
    with pytest.raises(pg_server.NoPostgres, match="'pgserver' or 'system'"):
        pg_server.find_binaries("docker")


def test_with_no_postgres_at_all_ci_fails_and_a_developer_is_told_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pg_server, "pgserver_binaries", lambda: None)
    monkeypatch.setattr(pg_server, "system_binaries", lambda: None)
    monkeypatch.delenv(pg_server.CHOICE_VARIABLE, raising=False)
    with pytest.raises(pg_server.NoPostgres, match=r"pip install -e '\.\[dev\]'") as caught:
        pg_server.find_binaries()
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL tests cannot run"):
        without_postgres(caught.value, ci=True)
    with pytest.raises(pytest.skip.Exception):
        without_postgres(caught.value, ci=False)


@pytest.mark.skipif(
    pg_server.system_binaries() is None, reason="no system PostgreSQL (pg_ctl) to fall back on"
)
def test_the_systems_pg_ctl_serves_when_pgserver_is_absent() -> None:
    server = pg_server.start("system")
    try:
        assert server.source == "system" and "pgserver" not in str(server.bin_dir)
        with psycopg.connect(server.url(), autocommit=True) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone() == ("",)  # socket only
            name = server.create_database()
        with psycopg.connect(server.url(name)) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (name,)
        server.drop_database(name)
    finally:
        server.stop()
    assert not server.root.exists()


def test_a_server_whose_test_run_died_is_stopped_and_removed_by_the_next() -> None:
    server = pg_server.start()
    beyond = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1  # no process has this id
    (server.root / "owner.pid").write_text(str(beyond))
    assert pg_server.remove_abandoned(server.bin_dir) >= 1
    assert not server.root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url(), connect_timeout=2).close()
