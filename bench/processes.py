"""Starting, watching and stopping the processes under measurement."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: The signing secret and store secret every benchmark process shares.
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
STORE_SECRET = "benchmark secret, not for use anywhere else"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def python_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "REFLECT_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@contextlib.contextmanager
def fake_slack(*, users: int, team: int = 0) -> Iterator[str]:
    """The fake Slack Web API in its own process; yields its base URL."""
    args = ["-m", "bench.slack_server", "--users", str(users), "--team", str(team)]
    with helper(args) as url:
        if not url.startswith("http"):
            raise RuntimeError("the fake Slack server did not start")
        yield url


@contextlib.contextmanager
def helper(args: list[str]) -> Iterator[str]:
    """`python ARGS`: a helper process that prints one line when ready (yielded) and stops
    when its stdin is closed."""
    process = subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env=python_env(),
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"{' '.join(args)} did not start")
        yield line
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def bot_env(*, slack_url: str, folder: Path, **extra: str) -> dict[str, str]:
    return python_env(
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_url,
        REFLECT_DATA_DIR=str(folder),
        REFLECT_DB=str(folder / "reflect.db"),
        REFLECT_SECRET_KEY=STORE_SECRET,
        REFLECT_LOG_LEVEL="WARNING",
        **extra,
    )


def start_reflect(*, port: int, env: dict[str, str], folder: Path) -> subprocess.Popen[bytes]:
    """`reflect run --http --port PORT`, exactly as an operator starts it."""
    return subprocess.Popen(
        [str(BIN / "reflect"), "run", "--http", "--port", str(port)],
        cwd=folder,  # no .env from the checkout
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "reflect.log").open("wb"),
    )


def start_bare(*, port: int, env: dict[str, str], folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.bare_app", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "bare.log").open("wb"),
    )


def wait_ready(
    url: str, *, process: subprocess.Popen[bytes], timeout: float = 60.0, path: str = "/healthz"
) -> float:
    """Seconds until GET `path` answers 200 (any answer, for an app without /healthz)."""
    began = time.perf_counter()
    with httpx.Client(timeout=1.0) as client:
        while time.perf_counter() - began < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode} before ready")
            try:
                if client.get(url + path).status_code == 200:
                    return time.perf_counter() - began
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    raise RuntimeError("the server was not ready in time")


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
