"""Settings for installing over OAuth: chosen by the client id and secret, checked together."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load

OAUTH = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret",
    "SLACK_SIGNING_SECRET": "signing-secret",
    "SLACK_APP_ID": "A1",
}


def test_oauth_is_chosen_by_the_client_credentials_and_needs_no_bot_token(tmp_path: Path) -> None:
    settings = load(OAUTH, env_file=tmp_path / "none")
    assert settings.oauth and settings.slack_configured
    assert settings.problems(http=True) == []
    assert settings.erase_after_uninstall_days == 7


def test_one_bot_token_is_not_oauth(tmp_path: Path) -> None:
    settings = load({"SLACK_BOT_TOKEN": "xoxb-1"}, env_file=tmp_path / "none")
    assert not settings.oauth


def test_oauth_problems_are_named(tmp_path: Path) -> None:
    half = load(
        {"SLACK_CLIENT_ID": "1111.2222", "SLACK_BOT_TOKEN": "xoxb-1"}, env_file=tmp_path / "none"
    )
    said = "\n".join(half.problems(http=False))
    for name in ("SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN", "--http", "SLACK_SIGNING_SECRET"):
        assert name in said
    assert "SLACK_APP_ID" in said


def test_the_erasure_grace_period_is_checked(tmp_path: Path) -> None:
    assert load({**OAUTH, "REFLECT_ERASE_AFTER_UNINSTALL_DAYS": "0"}, env_file=tmp_path / "n")
    with pytest.raises(SettingsError, match="REFLECT_ERASE_AFTER_UNINSTALL_DAYS"):
        load({"REFLECT_ERASE_AFTER_UNINSTALL_DAYS": "-1"}, env_file=tmp_path / "none")
