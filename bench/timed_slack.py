"""The fake Slack Web API (tests/slack/fake_slack.py) in a process of its own, noting when each
message was posted, for the time from a person's DM to the bot's reply.

    python -m bench.timed_slack --users 300

prints its base URL on the first line of stdout and serves until stdin is closed. The method
`bench.posts` (not Slack's) answers every chat.postMessage so far: channel, the poster's
CLOCK_MONOTONIC time (comparable between processes on one machine) and the message's block ids.
"""

from __future__ import annotations

import argparse
import sys
import time
from http.server import ThreadingHTTPServer
from typing import Any

from bench.slack_server import user_id
from tests.slack.fake_slack import FakeSlack


class TimedSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.posted: list[tuple[str, float, list[str]]] = []

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._chat_postMessage(args)
        if answer.get("ok"):
            blocks = args.get("blocks") or []
            ids = [str(block.get("block_id") or "") for block in blocks if isinstance(block, dict)]
            self.posted.append((str(answer["channel"]), time.monotonic(), ids))
        return answer

    def _bench_posts(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "posts": self.posted}


def main() -> None:
    ThreadingHTTPServer.request_queue_size = 1024  # as bench.slack_server, for bursts
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    fake = TimedSlack().start()
    for number in range(args.users):
        fake.add_user(user_id(number), first_name="Sam")
    print(fake.url, flush=True)
    sys.stdin.read()
    fake.stop()


if __name__ == "__main__":
    main()
