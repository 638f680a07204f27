"""`reflect chat` as a person runs it: piped input, a real SQLite file.

The first chat runs the real command in a process of its own (the entry point, start-up,
standard input closed at its end, the key file it writes); the rest drive the same command
in-process through click, which the process boundary would only make slower.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli

REFLECT = [sys.executable, "-m", "bot.cli"]


def _run(
    data: Path, *args: str, typed: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`reflect ARGS` in a process of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REFLECT_"))}
    env |= {"REFLECT_DATA_DIR": str(data), "REFLECT_TERMINAL_USER": "sam", "PYTHONUTF8": "1"}
    env |= extra or {}
    return subprocess.run(
        [*REFLECT, *args],
        input=typed,
        capture_output=True,
        text=True,
        env=env,
        cwd=data.parent,
        timeout=60,
        check=False,
    )


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _chat(data: Path, *args: str, typed: str, extra: dict[str, str] | None = None) -> Ran:
    """`reflect ARGS` in this process, through click, with the same environment as `_run`
    (the `data` fixture has moved into its parent folder: no stray .env is read)."""
    unset = {k: None for k in os.environ if k.startswith(("SLACK_", "REFLECT_"))}
    env = unset | {"REFLECT_DATA_DIR": str(data), "REFLECT_TERMINAL_USER": "sam"} | (extra or {})
    result = CliRunner().invoke(cli, list(args), input=typed, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


def test_a_first_chat_creates_a_private_key_and_completes_a_flow(data: Path) -> None:
    """One run serves both: the first chat, and its answers kept only encrypted."""
    typed = "1\nCanary-Quokka-42 happened\n2\nskip\n1\n3\n1\nWrite the minutes\n2\n"
    result = _run(data, "chat", typed=typed)
    assert result.returncode == 0, result.stderr
    assert "Created your secret key" in result.stdout
    assert "One small step: Write the minutes" in result.stdout
    assert (data / "secret.key").stat().st_mode & 0o777 == 0o600
    assert "Traceback" not in result.stderr
    # Neither the answers nor the person's id are in the database files in clear.
    blobs = b"".join(p.read_bytes() for p in data.iterdir() if p.is_file())
    assert b"Canary-Quokka-42" not in blobs
    assert b"terminal:sam" not in blobs


def test_the_end_of_input_pauses_and_the_next_chat_resumes(data: Path) -> None:
    first = _chat(data, "chat", "hard-day", typed="A hard meeting\n")
    assert first.returncode == 0 and "Paused" in first.stdout
    second = _chat(data, "chat", typed="y\n2\nskip\n1\nrest\n1\nskip\n2\n")
    assert "in progress" in second.stdout
    assert "What happened: A hard meeting" in second.stdout
    export = _chat(data, "data", "export", "--format", "json", typed="")
    assert "A hard meeting" in export.stdout  # kept for its owner, readable by them


def test_an_unknown_flow_is_a_clear_error(data: Path) -> None:
    result = _chat(data, "chat", "no-such-flow", typed="")
    assert result.returncode == 2
    assert "no reflection called 'no-such-flow'" in result.stderr
    assert "Traceback" not in result.stderr


def _hard_day(next_step: str, *, follow_up: str | None = None) -> str:
    """Typed answers for hard-day: the follow-up (when asked) comes before the next step."""
    lines = ["Rota gaps again", "3", "skip", "1", "1", "1"]
    if follow_up is not None:
        lines.append(follow_up)
    lines += [next_step, "2"]
    return "\n".join(lines) + "\n"


def test_the_next_reflection_asks_how_the_last_next_step_went(data: Path) -> None:
    first = _chat(data, "chat", "hard-day", typed=_hard_day("Ring the family at ten"))
    assert first.returncode == 0, first.stderr
    assert "Ring the family at ten" in first.stdout  # in the summary
    # The second reflection asks about it, in the person's own words, decrypted from the
    # database under their key; "1" is "done".
    second = _chat(data, "chat", "hard-day", typed=_hard_day("skip", follow_up="1"))
    assert second.returncode == 0, second.stderr
    asked = second.stdout.split("Ring the family at ten")
    assert len(asked) == 3, second.stdout  # the question and the summary quote it
    assert "Traceback" not in first.stderr + second.stderr


SHAKY_FLOW = """\
schema_version: 1
id: shaky
title: Shaky
description: A flow whose summary divides by an answer.
area: self
minutes: 1
meta: {author: tests, draws_on: [nothing], last_reviewed: 2026-11-22}
intro: Hello.
steps:
  - id: energy
    kind: scale
    prompt: How is your energy?
    heavy: min
    labels: {min: low, max: high}
summary: "{{ 10 // (energy - 3) }}"
"""


def test_a_template_that_fails_mid_chat_gives_one_line_and_keeps_the_answers(
    data: Path, tmp_path: Path
) -> None:
    """Sample answers (1 and 5) render; a leader's 3 divides by zero: one clear line and
    exit 1, never a traceback."""
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "shaky.yaml").write_text(SHAKY_FLOW, encoding="utf-8")
    env = {"REFLECT_FLOWS_DIR": str(flows), "REFLECT_DEFAULT_FLOW": "shaky"}
    result = _chat(data, "chat", "shaky", typed="3\n", extra=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "could not be shown (ZeroDivisionError in its template)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
