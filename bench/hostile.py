"""Hostile traffic: what a stranger or one person's text can cost everyone else.

- **Pathological text**: redaction and the safety screen on 50,000-character inputs built to
  make backtracking patterns slow (the units of tests/property/test_pathological_text.py);
  the worst time per message.
- **One person's answers, another person's ack**: `reflect run --http` in its own process;
  one leader walks "After a hard day" typing three 40,000-character pathological answers (the
  longest message Slack sends), while another leader's DMs arrive every 50 ms. Their ack
  latency is compared with the same DMs on an idle bot.
- **Oversized bodies**: one unsigned 100 MB POST, then four at once, against the bot: the
  answers, and the bot's resident memory before and at its peak.
- **Slow clients**: 120 sockets that start a request and send a header line every 2 s;
  /healthz latency meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import processes, report
from bot.engine.safety import screen
from bot.store.redaction import redact
from tests.property.pathological import LENGTH, UNITS
from tests.slack import payloads
from tests.slack.signing import signed_headers

ANSWER = ("a." * 20_000)[:40_000]  # the e-mail pattern's old worst case, at Slack's limit
FORM = "application/x-www-form-urlencoded"


@dataclass
class Result:
    redaction: dict[str, float] = field(default_factory=dict)
    screening: dict[str, float] = field(default_factory=dict)
    idle_acks: list[float] = field(default_factory=list)
    busy_acks: list[float] = field(default_factory=list)
    pathological_acks: list[float] = field(default_factory=list)
    big_posts: list[tuple[str, str, float]] = field(default_factory=list)
    memory: tuple[float, float] = (0.0, 0.0)
    healthz: list[float] = field(default_factory=list)
    healthz_failures: int = 0


def _text(unit: str) -> str:
    return (unit * (LENGTH // len(unit) + 1))[:LENGTH]


def text_costs(result: Result) -> None:
    for unit in UNITS:
        text = _text(unit)
        for costs, work in ((result.redaction, redact), (result.screening, screen)):
            began = time.perf_counter()
            work(text)
            costs[unit] = time.perf_counter() - began


@contextlib.contextmanager
def _bot(folder: Path) -> Iterator[tuple[str, int]]:
    """`reflect run --http` against the fake Slack: its URL and process id."""
    with processes.fake_slack(users=10) as slack_url:
        port = processes.free_port()
        env = processes.bot_env(slack_url=slack_url, folder=folder)
        bot = processes.start_reflect(port=port, env=env, folder=folder)
        url = f"http://127.0.0.1:{port}"
        try:
            processes.wait_ready(url, process=bot)
            yield url, bot.pid
        finally:
            processes.stop(bot)


def _post(client: httpx.Client, body: bytes, content_type: str) -> float:
    headers = signed_headers(processes.SIGNING_SECRET, body, content_type=content_type)
    began = time.perf_counter()
    client.post("/slack/events", content=body, headers=headers)
    return time.perf_counter() - began


def _dm(client: httpx.Client, user: str, text: str) -> float:
    body = json.dumps(payloads.event_callback(payloads.message_im(user, text))).encode()
    return _post(client, body, "application/json")


def _other_leader(url: str, *, seconds: float, acks: list[float], stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        _post(client, payloads.slash_command("U00002", "hard-day"), FORM)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and not stop.is_set():
            acks.append(_dm(client, "U00002", "help"))
            time.sleep(0.05)


def one_person_and_another(url: str, result: Result) -> None:
    stop = threading.Event()
    _other_leader(url, seconds=3, acks=result.idle_acks, stop=stop)
    other = threading.Thread(
        target=_other_leader,
        kwargs={"url": url, "seconds": 60, "acks": result.busy_acks, "stop": stop},
    )
    other.start()
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            time.sleep(0.5)
            _post(client, payloads.slash_command("U00001", "hard-day"), FORM)
            for text in (ANSWER, "3", ANSWER, "1", ANSWER, "skip"):
                result.pathological_acks.append(_dm(client, "U00001", text))
            time.sleep(0.5)
    finally:
        stop.set()
        other.join()


def oversized_bodies(url: str, pid: int, result: Result) -> None:
    host, port = url.removeprefix("http://").split(":")
    before = processes.rss_mib(pid)

    def big_post(size: int) -> tuple[str, float]:
        began = time.perf_counter()
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {size}\r\n\r\n".encode()
            )
            chunk = b"x" * 65536
            sent = 0
            sock.settimeout(0.0)
            answer = b""
            while sent < size:
                try:
                    answer += sock.recv(4096)
                except BlockingIOError:
                    pass
                except OSError:
                    break
                if answer:
                    break
                try:
                    sent += sock.send(chunk)
                except BlockingIOError:
                    time.sleep(0.001)
                except OSError:
                    break
            sock.settimeout(30)
            with contextlib.suppress(OSError):
                while b"\r\n" not in answer:
                    more = sock.recv(4096)
                    if not more:
                        break
                    answer += more
        status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "(closed)"
        return status, time.perf_counter() - began

    status, took = big_post(100_000_000)
    result.big_posts.append(("one 100 MB POST", status, took))
    answers: list[tuple[str, float]] = []
    threads = [
        threading.Thread(target=lambda: answers.append(big_post(300_000_000))) for _ in range(4)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = ", ".join(sorted({status for status, _ in answers}))
    result.big_posts.append(("four 300 MB POSTs at once", statuses, time.perf_counter() - began))
    result.memory = (before, processes.rss_mib(pid))


def slow_clients(url: str, result: Result, *, sockets: int = 120, seconds: float = 12) -> None:
    host, port = url.removeprefix("http://").split(":")
    slow: list[socket.socket] = []
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(2.0):
            for sock in list(slow):
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    slow.remove(sock)

    try:
        for _ in range(sockets):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
            slow.append(sock)
        trickler = threading.Thread(target=trickle)
        trickler.start()
        end = time.perf_counter() + seconds
        with httpx.Client(base_url=url, timeout=5) as client:
            while time.perf_counter() < end:
                began = time.perf_counter()
                try:
                    client.get("/healthz")
                    result.healthz.append(time.perf_counter() - began)
                except httpx.HTTPError:
                    result.healthz_failures += 1
                time.sleep(0.2)
        stop.set()
        trickler.join()
    finally:
        for sock in slow:
            sock.close()


def run(*, quick: bool = False) -> Result:
    result = Result()
    text_costs(result)
    with (
        tempfile.TemporaryDirectory(prefix="reflect-hostile-") as name,
        _bot(Path(name)) as (url, pid),
    ):
        one_person_and_another(url, result)
        oversized_bodies(url, pid, result)
        slow_clients(url, result, seconds=6 if quick else 12)
    return result


def markdown(result: Result) -> str:
    worst_redaction = max(result.redaction.items(), key=lambda item: item[1])
    worst_screen = max(result.screening.items(), key=lambda item: item[1])
    rows = [
        (
            "redaction",
            report.ms(worst_redaction[1]),
            repr(worst_redaction[0]),
            report.ms(statistics.median(result.redaction.values())),
        ),
        (
            "safety screen",
            report.ms(worst_screen[1]),
            repr(worst_screen[0]),
            report.ms(statistics.median(result.screening.values())),
        ),
    ]
    parts = [
        f"Pathological inputs of {LENGTH:,} characters, one unit repeated "
        f"({len(UNITS)} units, from bench/hostile.py):",
        "",
        report.table(("", "worst per message", "worst unit", "median"), rows),
        "",
        "One leader types three 40,000-character answers (`a.a.a.…`) through "
        '"After a hard day" while another leader\'s DMs arrive every 50 ms:',
        "",
        report.table(
            ("the other leader's acks", "n", "p50", "p99", "max"),
            [
                ("bot idle", len(result.idle_acks), *_spread(result.idle_acks)),
                ("during the long answers", len(result.busy_acks), *_spread(result.busy_acks)),
            ],
        ),
        "",
        "The long answers' own acks: "
        + ", ".join(report.ms(value) for value in result.pathological_acks)
        + ".",
        "",
        report.table(
            ("unsigned oversized POSTs", "answer", "seconds"),
            [(what, status, f"{took:.2f}") for what, status, took in result.big_posts],
        ),
        "",
        f"Bot resident memory: {result.memory[0]:.0f} MiB before the oversized POSTs, "
        f"{result.memory[1]:.0f} MiB after them.",
        "",
        f"120 slow clients sending a header line every 2 s: /healthz answered "
        f"{len(result.healthz)} times, p50 {_spread(result.healthz)[0]}, "
        f"max {_spread(result.healthz)[2]}, {result.healthz_failures} failures.",
    ]
    return "\n".join(parts)


def _spread(values: list[float]) -> tuple[str, str, str]:
    if not values:
        return ("-", "-", "-")
    return (
        report.ms(report.percentile(values, 0.5)),
        report.ms(report.percentile(values, 0.99)),
        report.ms(max(values)),
    )


if __name__ == "__main__":
    outcome = run(quick=True)
    print(markdown(outcome))
