"""`reflect run` and `reflect start`: clear refusals, and the real command serving HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import SECRET

SLACK_VARS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL")


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Slack settings, no .env, data in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in SLACK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REFLECT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_run_without_settings_says_what_is_missing_in_one_message(bare: Path) -> None:
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 1
    assert "The Slack bot cannot start:" in result.output
    assert "SLACK_BOT_TOKEN is not set" in result.output
    assert "SLACK_APP_TOKEN is not set" in result.output
    assert "Traceback" not in result.output


def test_http_mode_refuses_to_start_without_a_signing_secret(
    bare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    result = CliRunner().invoke(cli, ["run", "--http"])
    assert result.exit_code == 1
    assert "SLACK_SIGNING_SECRET is required for --http" in result.output


def test_start_without_slack_opens_the_terminal_chat(bare: Path) -> None:
    result = CliRunner().invoke(cli, ["start"], input="")
    assert "Slack isn't configured" in result.output
    assert "After a hard day" in result.output, "the terminal chat offered its flows"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# `reflect run --http` as a real process (serves signed requests, refuses forged ones, greets
# by name, stops cleanly on SIGTERM, logs no secret) is started once, at DEBUG, in
# tests/test_logs_at_debug.py.


def test_start_with_a_bot_token_runs_the_bot_and_reports_what_is_missing(
    bare: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    result = CliRunner().invoke(cli, ["start"], input="")
    assert result.exit_code == 1
    assert "The Slack bot cannot start:" in result.output
    assert "SLACK_APP_TOKEN is not set" in result.output
    assert "terminal" not in result.output


def test_a_token_slack_refuses_is_reported_in_one_line(
    bare: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeSlack
) -> None:
    _against(monkeypatch, fake, token="xoxb-revoked")
    fake.fail("auth.test", error="invalid_auth")
    result = CliRunner().invoke(
        cli, ["run", "--http", "--allow-secret-in-data-dir", "--port", str(_free_port())]
    )
    assert result.exit_code == 1
    assert "Slack refused the bot's credentials (invalid_auth)" in result.output
    assert "Traceback" not in result.output


def test_reflect_run_over_socket_mode_answers_and_stops_cleanly(
    fake: FakeSlack, tmp_path: Path
) -> None:
    from tests.slack.fake_socket_mode import FakeSocketMode

    socket_server = FakeSocketMode().start()
    fake.socket_url = socket_server.url
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test",
        "SLACK_API_URL": fake.url,
        "REFLECT_DATA_DIR": str(tmp_path / "data"),
        "REFLECT_SECRET_KEY": "kept-apart-from-the-data-folder-0123456789",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        socket_server.wait_connected(timeout=60)  # a bound, not a speed target: a busy machine
        event = payloads.event_callback(payloads.message_im("U1", "hard day"))
        ack = socket_server.send("events_api", event, timeout=10)
        assert ack["envelope_id"]
        deadline = time.monotonic() + 10
        while len(fake.messages("DU1")) < 2:  # the first-use agreement, then the reply
            assert time.monotonic() < deadline, "no reply was posted"
            time.sleep(0.05)
        assert "question 1" in json.dumps(fake.messages("DU1")[-1])
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0].decode()
        socket_server.stop()
    assert process.returncode == 0, output
    assert "xapp-test" not in output and "xoxb-test" not in output


def test_a_port_in_use_is_one_clear_line(
    bare: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeSlack
) -> None:
    _against(monkeypatch, fake, token="xoxb-test")
    monkeypatch.setenv("REFLECT_ALLOW_SECRET_IN_DATA_DIR", "1")
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["run", "--http", "--port", str(port)])
    assert result.exit_code == 1
    assert "Could not start: Address already in use." in result.output
    assert "Traceback" not in result.output


def _against(monkeypatch: pytest.MonkeyPatch, fake: FakeSlack, *, token: str) -> None:
    """Settings for `reflect run --http` against the fake Slack."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", fake.url)


def test_the_bot_refuses_a_secret_generated_inside_the_data_folder(
    bare: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeSlack
) -> None:
    _against(monkeypatch, fake, token="xoxb-test")
    monkeypatch.delenv("REFLECT_SECRET_KEY", raising=False)
    monkeypatch.delenv("REFLECT_ALLOW_SECRET_IN_DATA_DIR", raising=False)
    result = CliRunner().invoke(cli, ["run", "--http", "--port", str(_free_port())])
    assert result.exit_code == 1
    assert "REFLECT_SECRET_KEY" in result.output and "--allow-secret-in-data-dir" in result.output
    assert not (bare / "data" / "secret.key").exists()  # nothing was created
    assert "Traceback" not in result.output
