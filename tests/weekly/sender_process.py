"""A weekly-nudge process for the multi-process tests: one round of planning and sending
against the fake Slack, on a clock that starts at --now and runs in real time.

    python -m tests.weekly.sender_process DB URL NOW INTERVAL
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

from bot.slack.delivery.reminder_api import WebReminderSlack
from bot.store.sqlite import SqliteStore
from bot.weekly.service import starting_at
from bot.weekly.wiring import build_runner
from tests.weekly.harness import FLOWS, SIX_HOURS, TEST_SECRET


def main(db: str, url: str, now: str, interval: str) -> None:
    store = SqliteStore.open(Path(db), secret=TEST_SECRET)
    runner = build_runner(
        db=store,
        slack=WebReminderSlack(token="xoxb-test", base_url=url, timeout=5),
        keyring=store.keyring,
        flows=FLOWS,
        clock=starting_at(dt.datetime.fromisoformat(now)),
        sleep=time.sleep,
        late_after=SIX_HOURS,
        interval=float(interval),
    )
    report = runner.run_once()
    store.close()
    print(report.send.sent, report.send.found, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
