"""The tests' fake Slack (tests/slack/fake_slack.py) in a process of its own, with a workspace
of N people in one team channel, enforcing a chat.postMessage rate with 429s (its `limit`).

    python -m bench.nudge_slack --people 10000 --rate 100 --epoch 1795881630

prints its base URL and serves. A line "report" on stdin prints one line of JSON (nudges per
person, accepted post times, 429s) and stops the server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
import time
from http.server import ThreadingHTTPServer

from tests.slack.fake_slack import FakeSlack, User

CHANNEL = "CTEAM"


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
    workspace = FakeSlack()
    workspace.limit(
        "chat.postMessage", per_second=args.rate, burst=args.burst or max(1.0, args.rate / 10)
    )
    workspace.clock = lambda: epoch + dt.timedelta(seconds=time.monotonic() - began)
    members = [user_id(number) for number in range(args.people)]
    for member in members:
        workspace.add_user(User(member, tz="Europe/London"))
    workspace.add_channel(CHANNEL, members)
    done = threading.Event()
    workspace.start()
    try:
        print(workspace.url, flush=True)
        for line in sys.stdin:
            if line.strip() == "report":
                counts = [len(workspace.reminders_to(member)) for member in members]
                print(
                    json.dumps(
                        {
                            "counts": counts,
                            "accepted": workspace.accepted.get("chat.postMessage", []),
                            "refused": workspace.refused.get("chat.postMessage", 0),
                            "calls": len(workspace.calls()),
                        }
                    ),
                    flush=True,
                )
                done.set()
                break
    finally:
        workspace.stop()


if __name__ == "__main__":
    main()
