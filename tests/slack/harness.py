"""The real Bolt app, served by the real waitress server on loopback, talking to FakeSlack,
with a real SQLite store: and a Slack-side client that signs what it sends."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from slack_bolt import App

from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.signposts import load_signposts
from bot.engine.supervisor_nudge import NudgePolicy, load_supervisors
from bot.settings import Settings
from bot.slack.app import build_app
from bot.slack.client import web_client
from bot.slack.http import http_server
from bot.slack.lanes import Lanes
from bot.store.sqlite import SqliteStore
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import signed_headers

ROOT = Path(__file__).resolve().parents[2]
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def library() -> FlowLibrary:
    flows = [
        Flow.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted((ROOT / "flows").glob("*.yaml"))
    ]
    return FlowLibrary(flows, default="hard-day")


def settings_for(fake: FakeSlack, **extra: Any) -> Settings:
    base: dict[str, Any] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.url,
    }
    base.update(extra)
    return Settings(**base)


@dataclass
class Bot:
    """The app and what it was built from."""

    app: App
    store: SqliteStore
    lanes: Lanes
    conversations: Conversations
    sleeps: list[float] = field(default_factory=list)

    def settle(self) -> None:
        assert self.lanes.wait_idle(timeout=10), "posting did not finish"


def make_bot(fake: FakeSlack, tmp_path: Path, *, now: dt.datetime | None = None, **settings: Any) -> Bot:
    config = settings_for(fake, **settings)
    store = SqliteStore.open(tmp_path / "reflect.db", secret=b"s" * 32)
    clock = (lambda: now) if now else (lambda: dt.datetime.now(dt.UTC))
    conversations = Conversations(
        library=library(),
        store=store,
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        nudges=NudgePolicy(supervisors=load_supervisors(ROOT / "config" / "supervisors.yaml")),
        clock=clock,
    )
    sleeps: list[float] = []
    client = web_client(settings=config, sleep=sleeps.append, backoff=0.001, timeout=2)
    lanes = Lanes(workers=4)
    app = build_app(
        conversations=conversations, store=store, settings=config, client=client, lanes=lanes, clock=clock
    )
    return Bot(app=app, store=store, lanes=lanes, conversations=conversations, sleeps=sleeps)


class Served:
    """The app behind waitress on an ephemeral loopback port."""

    def __init__(self, app: App) -> None:
        self.server = http_server(app=app, host="127.0.0.1", port=0, threads=4)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}"

    def close(self) -> None:
        self.server.close()


class SlackSide:
    """What Slack sends the app over HTTP, signed as Slack signs it."""

    def __init__(self, *, url: str, secret: str = SECRET) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)
        self.secret = secret

    def send(
        self,
        body: bytes,
        *,
        content_type: str,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> httpx.Response:
        signed = signed_headers(
            secret or self.secret, body, content_type=content_type, timestamp=timestamp
        )
        return self.http.post("/slack/events", content=body, headers={**signed, **(headers or {})})

    def event(self, event: dict[str, Any], *, retry_num: int | None = None, **envelope: Any) -> httpx.Response:
        return self.envelope(payloads.event_callback(event, **envelope), retry_num=retry_num)

    def envelope(self, body: dict[str, Any], *, retry_num: int | None = None) -> httpx.Response:
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return self.send(json.dumps(body).encode(), content_type="application/json", headers=headers)

    def command(self, user: str, text: str, **extra: Any) -> httpx.Response:
        body = payloads.slash_command(user, text, **extra)
        return self.send(body, content_type="application/x-www-form-urlencoded")

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        body = payloads.interactive_body(payload)
        return self.send(body, content_type="application/x-www-form-urlencoded")


def buttons(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every button, select or checkbox group in a posted message."""
    found = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            found += [(block.get("block_id", ""), element) for element in block["elements"]]
        elif block.get("accessory"):
            found.append((block.get("block_id", ""), block["accessory"]))
    return found


def texts(message: dict[str, Any]) -> str:
    """All the words in a message's blocks, joined."""
    words: list[str] = []
    for block in message.get("blocks") or []:
        for part in [block.get("text"), *(block.get("elements") or []), *(block.get("fields") or [])]:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                words.append(part["text"])
    return "\n".join(words)
