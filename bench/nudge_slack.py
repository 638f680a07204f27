"""The weekly nudges' fake Slack (tests/weekly/fake_slack.py) in a process of its own, with a
workspace of N people in one team channel, enforcing a chat.postMessage rate with 429s.

    python -m bench.nudge_slack --people 10000 --rate 100 --epoch 1795881630

prints its base URL and serves. A line "report" on stdin prints one line of JSON (nudges per
person, accepted post times, 429s) and stops the server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from tests.weekly.fake_slack import User, Workspace, serve

CHANNEL = "CTEAM"


class RateLimitedWorkspace(Workspace):
    """chat.postMessage through a token bucket: `rate` posts a second, bursts of `burst`.
    Over it: HTTP 429 with Retry-After in whole seconds (as Slack sends it), nothing posted."""

    def __init__(self, *, rate: float, burst: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.refilled = time.monotonic()
        self.accepted: list[float] = []
        self.refused = 0

    def m_chat_postMessage(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        if self.tokens < 1:
            self.refused += 1
            self.retry_after = max(1, math.ceil((1 - self.tokens) / self.rate))
            return 429, {"ok": False, "error": "ratelimited"}, ""
        self.tokens -= 1
        status, body, fault = super().m_chat_postMessage(args)
        if status == 200 and body.get("ok"):
            self.accepted.append(now)
        return status, body, fault


def user_id(number: int) -> str:
    return f"U{number:05d}"


def main() -> None:
    # socketserver listens with a backlog of 5: under a burst of new connections (slack_sdk
    # opens one per call) the kernel drops SYNs and clients retry after 1, 3, 7 s, which would
    # be measured as the bot's latency. Slack itself is no such bottleneck.
    ThreadingHTTPServer.request_queue_size = 1024
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--burst", type=float, default=None)
    parser.add_argument("--epoch", type=float, required=True)
    args = parser.parse_args()
    began = time.monotonic()
    epoch = dt.datetime.fromtimestamp(args.epoch, dt.UTC)
    workspace = RateLimitedWorkspace(rate=args.rate, burst=args.burst or max(1.0, args.rate / 10))
    workspace.clock = lambda: epoch + dt.timedelta(seconds=time.monotonic() - began)
    members = [user_id(number) for number in range(args.people)]
    for member in members:
        workspace.add_user(User(member, "Europe/London"))
    workspace.add_channel(CHANNEL, members)
    done = threading.Event()
    with serve(workspace) as url:
        print(url, flush=True)
        for line in sys.stdin:
            if line.strip() == "report":
                with workspace.lock:
                    counts = [len(workspace.nudges_to(member)) for member in members]
                    print(
                        json.dumps(
                            {
                                "counts": counts,
                                "accepted": workspace.accepted,
                                "refused": workspace.refused,
                                "calls": len(workspace.calls),
                            }
                        ),
                        flush=True,
                    )
                done.set()
                break


if __name__ == "__main__":
    main()
