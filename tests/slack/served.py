"""The bot started as a real process (`reflect start --port`), for the tests that run one."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], *, within: float = 60) -> None:
    """Wait for `/healthz` at `base` to answer 200; fail if the process stops or is too slow.
    The limit is for a busy machine, not a speed target (start-up time is in BENCHMARKS.md)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        assert time.monotonic() < deadline, "the bot did not come up"
        time.sleep(0.1)
