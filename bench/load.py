"""A small asyncio load generator (httpx): concurrent Slack-side clients sending signed slash
commands, DM events and button clicks, at a fixed total rate, for a fixed time.

Each virtual leader plays a script, one request after the other (their order matters to the
bot: the ack of one comes before the next is sent), at its share of the rate. Requests are
scheduled on a fixed timetable; when the server falls behind, a leader sends its next request
as soon as the previous one is answered, and the latency is still counted from the moment the
request was due (no coordinated omission: a slow server cannot hide its queue).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bot.engine.people import Person
from bot.slack.identity import owner_tag
from tests.slack import payloads
from tests.slack.signing import signed_headers

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Request:
    kind: str  # "command", "event" or "click"
    body: bytes
    content_type: str


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    seconds: float = 0.0

    @property
    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def _click(user: str, step_id: str, index: int, value: str) -> Request:
    asked = f"q|{owner_tag(Person(id=f'T1:{user}'))}|hard-day|{step_id}"
    message = {
        "type": "message",
        "ts": "1700000000.000100",
        "text": "",
        "blocks": [{"type": "actions", "block_id": asked, "elements": []}],
    }
    action = {"type": "button", "action_id": f"answer:{index}", "block_id": asked, "value": value}
    payload = payloads.block_actions(user, message=message, channel=f"D{user}", action=action)
    return Request("click", payloads.interactive_body(payload), FORM)


def _event(user: str, text: str) -> Request:
    body = json.dumps(payloads.event_callback(payloads.message_im(user, text))).encode()
    return Request("event", body, "application/json")


def _command(user: str, text: str) -> Request:
    return Request("command", payloads.slash_command(user, text), FORM)


def leader_script(user: str) -> list[Request]:
    """A leader opening Reflect, starting "After a hard day", answering four steps by typing
    and clicking, then stopping: commands, DM events and clicks, each needing an engine step."""
    return [
        _event(user, "hi"),
        _command(user, "hard-day"),
        _event(user, "A long shift with two staff off sick, and a hard talk with a family."),
        _click(user, "weight", 2, "3"),
        _event(user, "It landed heavily; a bit lighter now."),
        _click(user, "need", 0, "rest"),
        _command(user, "stop"),
    ]


async def _leader(
    client: httpx.AsyncClient,
    *,
    script: list[Request],
    secret: str,
    interval: float,
    start: float,
    end: float,
    results: Results,
) -> None:
    due = start
    step = 0
    while due < end:
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        request = script[step % len(script)]
        step += 1
        headers = signed_headers(secret, request.body, content_type=request.content_type)
        try:
            response = await client.post("/slack/events", content=request.body, headers=headers)
            results.statuses[response.status_code] += 1
        except httpx.HTTPError as error:
            results.failures[type(error).__name__] += 1
        results.latencies.setdefault(request.kind, []).append(time.perf_counter() - due)
        results.sent += 1
        due += interval


async def _run(
    *, url: str, secret: str, rate: float, seconds: float, leaders: int, first_user: int
) -> Results:
    results = Results()
    interval = leaders / rate
    limits = httpx.Limits(max_connections=leaders, max_keepalive_connections=leaders)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as client:
        start = time.perf_counter() + 0.2
        end = start + seconds
        tasks = [
            _leader(
                client,
                script=leader_script(f"U{first_user + number:05d}"),
                secret=secret,
                interval=interval,
                # spread the leaders' timetables evenly over one interval
                start=start + interval * number / leaders,
                end=end,
                results=results,
            )
            for number in range(leaders)
        ]
        await asyncio.gather(*tasks)
        results.seconds = time.perf_counter() - start
    return results


def run(
    *,
    url: str,
    secret: str,
    rate: float,
    seconds: float,
    leaders: int = 50,
    first_user: int = 0,
    progress: Callable[[str], None] = print,
) -> Results:
    results = asyncio.run(
        _run(
            url=url,
            secret=secret,
            rate=rate,
            seconds=seconds,
            leaders=leaders,
            first_user=first_user,
        )
    )
    progress(f"  load: {results.sent} requests in {results.seconds:.1f} s ({results.rate:.0f}/s)")
    return results
