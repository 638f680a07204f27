"""`reflect reminders run-once --now` and `reflect reminders preview --at`, against the fake
Slack; `reflect nudges`, their old name, still works."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import settings as settings_module
from bot.cli import cli
from bot.store import open_store
from bot.store.weekly.teams import Teams
from bot.weekly.due import WeeklyTime
from bot.weekly.privacy import lead_aad, slack_identity
from tests.slack.fake_slack import FakeSlack, User


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "REFLECT_DATA_DIR": str(tmp_path),
        "REFLECT_DB": str(tmp_path / "reflect.db"),
        "REFLECT_SECRET_KEY": "a-test-secret-that-is-long-enough-to-be-accepted-0123456789",
    }


def _set_up(env: dict[str, str], workspace: FakeSlack) -> None:
    workspace.add_user(User("UCANARY1", tz="Europe/London"))
    workspace.add_user(User("UCANARY2", tz="America/New_York"))
    workspace.add_channel("C1", ["UCANARY1", "UCANARY2"])
    settings = settings_module.load(env, env_file=Path("/nonexistent"))
    with open_store(settings) as store:
        lead = store.keyring.pseudonym(slack_identity(workspace="T1", user="ULEAD"))
        Teams(store, keyring=store.keyring).switch_on(
            channel="C1",
            workspace="T1",
            when=WeeklyTime(),
            lead=lead,
            lead_sealed=store.keyring.seal("ULEAD", aad=lead_aad(channel="C1", lead=lead)),
            now=dt.datetime(2026, 10, 26, tzinfo=dt.UTC),
        )


def test_preview_lists_who_would_be_due_by_pseudonym_only(env: dict[str, str]) -> None:
    workspace = FakeSlack().start()
    try:
        env["SLACK_API_URL"] = workspace.url
        _set_up(env, workspace)
        result = CliRunner().invoke(
            cli, ["reminders", "preview", "--at", "2026-10-30T16:05Z"], env=env
        )
    finally:
        workspace.stop()
    assert result.exit_code == 0, result.output
    assert "UCANARY" not in result.output
    lines = [line for line in result.output.splitlines() if "Fri 16:00" in line]
    assert len(lines) == 1  # London is due at 16:05 UTC; New York not until 20:00 UTC
    assert "Europe/London" in lines[0]
    assert re.match(r"^[0-9a-f]{12} ", lines[0])
    assert workspace.reminder_counts() == {"UCANARY1": 0, "UCANARY2": 0}  # nobody messaged


def test_run_once_with_now_sends_what_is_due_then_and_only_once(env: dict[str, str]) -> None:
    workspace = FakeSlack().start()
    try:
        env["SLACK_API_URL"] = workspace.url
        _set_up(env, workspace)
        runner = CliRunner()
        first = runner.invoke(cli, ["reminders", "run-once", "--now", "2026-10-30T20:01Z"], env=env)
        again = runner.invoke(cli, ["nudges", "run-once", "--now", "2026-10-30T20:30Z"], env=env)
    finally:
        workspace.stop()
    assert first.exit_code == 0, first.output
    assert "planned 2" in first.output and "sent 2" in first.output
    assert again.exit_code == 0, again.output
    assert "planned 0" in again.output and "sent 0" in again.output
    assert workspace.reminder_counts() == {"UCANARY1": 1, "UCANARY2": 1}
    assert "UCANARY" not in first.output + again.output


def test_a_bad_time_is_a_clear_message(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["nudges", "run-once", "--now", "tea time"], env=env)
    assert result.exit_code == 2
    assert "is not a date and time" in result.output
    assert "Traceback" not in result.output
