"""Start-up time to ready (GET /healthz answers 200) and peak memory of `reflect run --http`
holding 10,000 people and 100,000 reflections.

The database is filled before the bot starts (bench.seeding, or the engine benchmark's own
database when it ran first). A weekly nudge team of all 10,000 people is switched on, so the
scheduler inside the bot plans them (users.info for each, the ledger) while it serves. Then
every one of the 10,000 people opens the App Home (their recent reflections are read,
decrypted and published) and says hi by DM, from concurrent clients, as fast as the bot
answers. Peak memory is the process's VmHWM (peak resident set size) at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench import processes, report, seeding
from bot.store.sqlite import SqliteStore
from bot.store.weekly.teams import Teams
from bot.weekly.due import WeeklyTime
from bot.weekly.privacy import lead_aad, slack_identity
from tests.slack import payloads
from tests.slack.signing import signed_headers
from tests.weekly.harness import connect

PEOPLE = 10_000
REFLECTIONS = 100_000
CONCURRENCY = 16


@dataclass(frozen=True)
class Memory:
    people: int
    reflections: int
    ready_empty: float
    ready_full: float
    rss_ready: float
    rss_peak: float
    requests: int
    not_ok: int
    seconds: float
    nudge_rows: int


def _count_reflections(path: Path) -> int:
    connection = connect(path)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM reflections").fetchone()[0])
    finally:
        connection.close()


def _switch_on_team(store: SqliteStore) -> None:
    """The weekly nudges on for channel CTEAM, due a minute ago in London."""
    now = dt.datetime.now(dt.UTC)
    local = (now - dt.timedelta(minutes=1)).astimezone(ZoneInfo("Europe/London"))
    lead = store.keyring.pseudonym(slack_identity(workspace="T1", user="U00000"))
    Teams(store, keyring=store.keyring).switch_on(
        channel="CTEAM",
        workspace="T1",
        when=WeeklyTime(day=local.weekday(), time=local.time().replace(second=0, microsecond=0)),
        lead=lead,
        lead_sealed=store.keyring.seal("U00000", aad=lead_aad(channel="CTEAM", lead=lead)),
        now=now - dt.timedelta(days=7),
    )


def _nudge_rows(path: Path) -> int:
    connection = connect(path)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM reminder_ledger").fetchone()[0])
    except Exception:
        return 0
    finally:
        connection.close()


async def _touch_everyone(url: str, *, people: int) -> tuple[int, int]:
    """Every person opens the App Home and says hi, from CONCURRENCY clients."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for number in range(people):
        user = seeding.user_id(number)
        queue.put_nowait(json.dumps(payloads.event_callback(payloads.home_opened(user))).encode())
        queue.put_nowait(
            json.dumps(payloads.event_callback(payloads.message_im(user, "hi"))).encode()
        )
    sent = not_ok = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal sent, not_ok
        while not queue.empty():
            body = queue.get_nowait()
            headers = signed_headers(
                processes.SIGNING_SECRET, body, content_type="application/json"
            )
            try:
                response = await client.post("/slack/events", content=body, headers=headers)
                not_ok += response.status_code != 200
            except httpx.HTTPError:
                not_ok += 1
            sent += 1

    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(CONCURRENCY)))
    return sent, not_ok


def run(
    *, people: int = PEOPLE, reflections: int = REFLECTIONS, seeded: Path | None = None
) -> Memory:
    with tempfile.TemporaryDirectory(prefix="reflect-bench-") as name:
        folder = Path(name)
        with processes.fake_slack(users=people, team=people) as slack_url:
            env = processes.bot_env(slack_url=slack_url, folder=folder / "empty")
            (folder / "empty").mkdir()
            port = processes.free_port()
            bot = processes.start_reflect(port=port, env=env, folder=folder / "empty")
            try:
                ready_empty = processes.wait_ready(f"http://127.0.0.1:{port}", process=bot)
            finally:
                processes.stop(bot)

            full = folder / "full"
            full.mkdir()
            if seeded is not None and seeded.exists():
                for part in seeded.parent.glob(seeded.name + "*"):
                    shutil.copy(part, full / part.name)
                keys = seeded.with_name(seeded.stem + "-keys" + seeded.suffix)
                for part in keys.parent.glob(keys.name + "*"):
                    shutil.copy(part, full / part.name)
            secret = processes.STORE_SECRET.encode()
            with contextlib.closing(SqliteStore.open(full / "reflect.db", secret=secret)) as store:
                have = _count_reflections(store.path)
                if have < reflections:
                    print(f"  memory: seeding {reflections - have:,} reflections", flush=True)
                    seeding.seed_more(store, start=have, until=reflections, people=people)
                _switch_on_team(store)
            stored = _count_reflections(full / "reflect.db")
            env = processes.bot_env(slack_url=slack_url, folder=full)
            port = processes.free_port()
            url = f"http://127.0.0.1:{port}"
            bot = processes.start_reflect(port=port, env=env, folder=full)
            try:
                ready_full = processes.wait_ready(url, process=bot)
                rss_ready = processes.rss_mib(bot.pid)
                print(f"  memory: ready in {ready_full:.2f} s; {people:,} people visit", flush=True)
                began = time.perf_counter()
                sent, not_ok = asyncio.run(_touch_everyone(url, people=people))
                seconds = time.perf_counter() - began
                time.sleep(2)  # let posting after the acks finish
                rss_peak = processes.peak_rss_mib(bot.pid)
            finally:
                processes.stop(bot)
            rows = _nudge_rows(full / "reflect.db")
    return Memory(
        people=people,
        reflections=stored,
        ready_empty=ready_empty,
        ready_full=ready_full,
        rss_ready=rss_ready,
        rss_peak=rss_peak,
        requests=sent,
        not_ok=not_ok,
        seconds=seconds,
        nudge_rows=rows,
    )


def markdown(result: Memory) -> str:
    rows = [
        ("Start-up to ready, empty database", f"{result.ready_empty:.2f} s"),
        (
            f"Start-up to ready, {result.people:,} people and {result.reflections:,} reflections",
            f"{result.ready_full:.2f} s",
        ),
        ("Resident memory when ready", f"{result.rss_ready:.0f} MiB"),
        (
            f"Peak resident memory after {result.requests:,} requests "
            f"({result.people:,} App Home opens and DMs in {result.seconds:.0f} s)",
            f"{result.rss_peak:.0f} MiB",
        ),
        ("Requests not answered 200", result.not_ok),
        ("Weekly nudge ledger rows planned meanwhile", f"{result.nudge_rows:,}"),
    ]
    return report.table(("", "Figure"), rows) + (
        "\n\nStart-up is measured from spawning `reflect run --http` to the first 200 from "
        "GET /healthz (Python start, imports, flows, store, auth.test against the fake Slack)."
    )
