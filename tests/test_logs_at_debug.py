"""Logs carry no Slack id, name or text at any level, DEBUG included, in any command.

Each command runs as its own process at REFLECT_LOG_LEVEL=DEBUG (as an operator would run it)
against the fake Slack, with ids, a name and words that appear nowhere else; the output is
scanned for them."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bot import settings as settings_module
from bot.cli import cli
from bot.store import open_store
from bot.store.sqlite import SqliteStore
from bot.store.weekly.teams import Teams
from bot.weekly.due import WeeklyTime
from bot.weekly.privacy import lead_aad, slack_identity
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import texts
from tests.slack.served import wait_until_healthy
from tests.slack.signing import signed_headers

TEAM = "T0LOGTEAM77"
USER = "U0LOGUSER77"
CHANNEL = "C0LOGCHAN77"
NAME = "Quillon"
WORDS = "marmalade-lighthouse"
SIGNING = "log-test-signing-secret-0123456789ab"
SECRET = "log-test-reflect-secret-0123456789abcdef"
PYTHON_REFLECT = (sys.executable, "-c", "from bot.cli import main; main()")
CANARIES = (TEAM, USER, CHANNEL, NAME, WORDS, "D" + USER)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "REFLECT_DATA_DIR": str(tmp_path / "data"),
        "REFLECT_SECRET_KEY": SECRET,
        "REFLECT_LOG_LEVEL": "DEBUG",
        "REFLECT_TERMINAL_USER": NAME,
        **extra,
    }


def _reflect(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [*PYTHON_REFLECT, *args],
        env=env,
        cwd=env["HOME"],
        input=stdin.encode(),
        capture_output=True,
        timeout=60,
    )
    return (done.stdout + done.stderr).decode()


def _clean(output: str) -> None:
    for canary in CANARIES:
        assert canary not in output, f"{canary} in the output:\n{output}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_reflect_run_at_debug_logs_no_id_name_or_text(tmp_path: Path) -> None:
    """Also `reflect run --http` as an operator starts it (one start serves both): it serves
    signed requests, refuses forged ones, greets by name, and stops cleanly on SIGTERM."""
    fake = FakeSlack(team_id=TEAM).start()
    fake.add_user(USER, first_name=NAME)
    port = _free_port()
    env = _env(
        tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SIGNING, SLACK_API_URL=fake.url
    )
    process = subprocess.Popen(
        [*PYTHON_REFLECT, "run", "--http", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def send(body: bytes, content_type: str) -> None:
        headers = signed_headers(SIGNING, body, content_type=content_type)
        assert httpx.post(f"{base}/slack/events", content=body, headers=headers).status_code == 200

    try:
        wait_until_healthy(base, process)
        for text in ("hard day", f"{WORDS} all afternoon", f"more {WORDS}"):
            event = payloads.event_callback(payloads.message_im(USER, text), team_id=TEAM)
            send(json.dumps(event).encode(), "application/json")
        body = json.dumps(payloads.event_callback(payloads.message_im(USER, "hi"))).encode()
        forged = {
            **signed_headers(SIGNING, body, content_type="application/json"),
            "X-Slack-Signature": "v0=" + "0" * 64,
        }
        assert httpx.post(f"{base}/slack/events", content=body, headers=forged).status_code == 401
        send(
            payloads.slash_command(USER, f"help {WORDS}", team_id=TEAM),
            "application/x-www-form-urlencoded",
        )
        home = payloads.event_callback(payloads.home_opened(USER), team_id=TEAM)
        send(json.dumps(home).encode(), "application/json")
        deadline = time.monotonic() + 30
        while len(fake.calls("chat.postMessage")) < 3 or not fake.calls("views.publish"):
            assert time.monotonic() < deadline, "the bot did not answer"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
        fake.stop()
    assert process.returncode == 0, output
    assert any(f"Hello, {NAME}" in texts(m) for m in fake.messages("D" + USER))
    assert " INFO " in output, "the bot's own logs are in the output"
    assert SIGNING not in output and "xoxb-test" not in output and SECRET not in output
    _clean(output)


def test_reminders_run_once_at_debug_logs_no_member_or_profile(tmp_path: Path) -> None:
    fake = FakeSlack(team_id=TEAM).start()
    fake.add_user(USER, tz="Europe/London")
    fake.add_user("U0LOGOTHER7", tz="America/New_York", tz_offset=-18000)
    fake.add_channel(CHANNEL, [USER, "U0LOGOTHER7"])
    try:
        env = _env(tmp_path, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake.url)
        settings = settings_module.load(env, env_file=Path("/nonexistent"))
        with open_store(settings) as store:
            assert isinstance(store, SqliteStore)
            lead = store.keyring.pseudonym(slack_identity(workspace=TEAM, user=USER))
            Teams(store, keyring=store.keyring).switch_on(
                channel=CHANNEL,
                workspace=TEAM,
                when=WeeklyTime(),
                lead=lead,
                lead_sealed=store.keyring.seal(USER, aad=lead_aad(channel=CHANNEL, lead=lead)),
                now=dt.datetime(2026, 10, 26, tzinfo=dt.UTC),
            )
        output = _reflect(env, "reminders", "run-once", "--now", "2026-10-30T20:01Z")
    finally:
        fake.stop()
    assert "sent 2" in output, output
    assert " INFO " in output, "the scheduler's own logs are in the output"
    _clean(output)


def test_the_chat_and_data_commands_at_debug_log_no_identity_or_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """In-process, with every logger captured at DEBUG."""
    env = _env(tmp_path)
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    chat = runner.invoke(cli, ["chat"], input=f"hard day\n{WORDS} today\nquit\n", env=env)
    assert chat.exit_code == 0, chat.output
    assert WORDS not in caplog.text
    for args in (
        ("data", "export", "--person", f"{TEAM}:{USER}", "--reason", "subject access request"),
        ("data", "export"),
        ("data", "access-log"),
        ("data", "purge"),
        ("data", "forget", "--yes", "--person", f"{TEAM}:{USER}", "--reason", "erasure"),
        ("stats",),
    ):
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == 0, result.output
        _clean(result.output if args != ("data", "export") else "")
    assert any(r.levelno == logging.INFO for r in caplog.records), "the store's logs were seen"
    _clean(caplog.text)
