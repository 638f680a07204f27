"""Settings: every one documented in .env.example, read clearly, problems said at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import settings as settings_module
from bot.settings import SettingsError, load

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_read_is_listed_in_env_example() -> None:
    source = (ROOT / "bot" / "settings.py").read_text()
    read = set(re.findall(r'"((?:SLACK|REFLECT)_[A-Z_]+)"', source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read, "no settings found"
    assert read - listed == set(), "add these to .env.example with a comment"
    assert listed - read == set(), "these in .env.example are not read by bot/settings.py"


def test_defaults_need_nothing(tmp_path: Path) -> None:
    settings = load({}, env_file=tmp_path / "none")
    assert not settings.slack_configured
    assert settings.db_path == Path("data/reflect.db")
    assert settings.min_group_size == 5


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-file\nREFLECT_RETENTION_DAYS=30\n")
    settings = load({"REFLECT_RETENTION_DAYS": "90"}, env_file=env_file)
    assert settings.slack_bot_token == "xoxb-file"
    assert settings.retention_days == 90


def test_a_bad_number_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="REFLECT_MIN_GROUP_SIZE"):
        load({"REFLECT_MIN_GROUP_SIZE": "five"}, env_file=tmp_path / "none")


def test_problems_are_reported_together(tmp_path: Path) -> None:
    settings = load({"SLACK_BOT_TOKEN": "xoxp-bad"}, env_file=tmp_path / "none")
    problems = settings.problems(http=True)
    assert any("xoxb-" in p for p in problems)
    assert any("SLACK_SIGNING_SECRET" in p for p in problems)
    assert (
        settings_module.Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1").problems()
        == []
    )


def test_the_weekly_posting_pace_is_a_checked_setting(tmp_path: Path) -> None:
    fast = load({"REFLECT_WEEKLY_POSTS_PER_SECOND": "4"}, env_file=tmp_path / "none")
    assert fast.weekly_posts_per_second == 4.0
    with pytest.raises(SettingsError, match="REFLECT_WEEKLY_POSTS_PER_SECOND"):
        load({"REFLECT_WEEKLY_POSTS_PER_SECOND": "0"}, env_file=tmp_path / "none")
