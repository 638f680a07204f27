"""The fake Slack Web API from the Slack tests (tests/slack/fake_slack.py), in a process of
its own, so that serving it never competes with the bot under measurement for one interpreter.

    python -m bench.slack_server --users 10000

prints its base URL on the first line of stdout and serves until stdin is closed.
"""

from __future__ import annotations

import argparse
import sys
from http.server import ThreadingHTTPServer

from tests.slack.fake_slack import FakeSlack

TEAM = "CTEAM"


def user_id(number: int) -> str:
    return f"U{number:05d}"


def main() -> None:
    # socketserver listens with a backlog of 5: under a burst of new connections (slack_sdk
    # opens one per call) the kernel drops SYNs and clients retry after 1, 3, 7 s, which would
    # be measured as the bot's latency. Slack itself is no such bottleneck.
    ThreadingHTTPServer.request_queue_size = 1024
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--team", type=int, default=0, help="people in channel CTEAM")
    args = parser.parse_args()
    fake = FakeSlack().start()
    for number in range(args.users):
        fake.add_user(user_id(number), first_name="Sam")
    if args.team:
        members = [user_id(number) for number in range(args.team)]
        fake.add_channel(TEAM, members=[*members, fake.bot_user_id], name="team")
    print(fake.url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or goes)
    fake.stop()


if __name__ == "__main__":
    main()
