"""The server secret: from the environment, or created once, 0600, in the data folder."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.settings import Settings
from bot.store import open_store
from bot.store.errors import WrongSecretError
from bot.store.secret import MIN_SECRET_BITS, estimated_bits, load_or_create_secret
from tests.store.conftest import reflection

#: Random-looking test values (not used anywhere else).
CONFIGURED = "k7Qp2vX9mZ4tR8wL1nB6cY3hF5jD0sG2aE9uI7oP"
ANOTHER = "Zt3xQ9pL2mV7kR1wN8bC5yH4fJ6dS0gA3eU9iO2rT7y"


def _settings(tmp_path: Path, secret_key: str | None = None) -> Settings:
    data = tmp_path / "data"
    return Settings(data_dir=data, db_path=data / "reflect.db", secret_key=secret_key)


def test_a_configured_secret_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    secret, created = load_or_create_secret(_settings(tmp_path, CONFIGURED))
    assert (secret, created) == (CONFIGURED.encode(), None)
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    "weak",
    [
        "a" * 32,
        "a" * 64,
        "ab" * 32,
        "password" * 5,
        "0123456789abcdef" * 3,
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
    ],
)
def test_a_predictable_configured_secret_is_refused_with_advice(tmp_path: Path, weak: str) -> None:
    with pytest.raises(WrongSecretError, match=r"too predictable.*token_urlsafe"):
        load_or_create_secret(_settings(tmp_path, weak))


def test_a_predictable_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_text("a" * 43 + "\n", encoding="utf-8")
    with pytest.raises(WrongSecretError, match="too predictable"):
        load_or_create_secret(_settings(tmp_path))


def test_generated_secrets_always_pass() -> None:
    assert all(estimated_bits(secrets.token_urlsafe(32)) >= MIN_SECRET_BITS for _ in range(500))
    assert estimated_bits(secrets.token_hex(32)) >= MIN_SECRET_BITS


def test_a_short_configured_secret_is_refused_with_advice(tmp_path: Path) -> None:
    with pytest.raises(WrongSecretError, match="at least 32"):
        load_or_create_secret(_settings(tmp_path, "short"))


def test_first_use_creates_a_private_secret_file_and_says_where(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    secret, created = load_or_create_secret(settings)
    assert created == tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(os.stat(created).st_mode) == 0o600
    assert len(secret) >= 32
    again, created_again = load_or_create_secret(settings)
    assert (again, created_again) == (secret, None)


def test_open_store_reports_a_new_secret_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with open_store(settings) as store:
        assert store.created_secret == tmp_path / "data" / "secret.key"
    with open_store(settings) as store:
        assert store.created_secret is None


def test_a_lost_secret_file_is_not_silently_replaced(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with open_store(settings) as store:
        store.finish(_person(), reflection())
    (tmp_path / "data" / "secret.key").unlink()
    with pytest.raises(WrongSecretError, match="restore"):
        open_store(settings)
    assert not (tmp_path / "data" / "secret.key").exists()


def test_a_different_configured_secret_cannot_open_the_database(tmp_path: Path) -> None:
    with open_store(_settings(tmp_path)) as store:
        store.finish(_person(), reflection())
    with pytest.raises(WrongSecretError, match="does not match"):
        open_store(_settings(tmp_path, ANOTHER))


def _person() -> Person:
    return Person("T1:U1")


def test_a_secret_file_others_can_read_is_used_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tmp_path)
    secret, _ = load_or_create_secret(settings)
    (tmp_path / "data" / "secret.key").chmod(0o644)
    assert load_or_create_secret(settings) == (secret, None)
    assert "chmod 600" in caplog.text and secret.decode() not in caplog.text
