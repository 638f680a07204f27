"""The real Bolt app, served by the real waitress server on loopback, talking to FakeSlack,
with a real SQLite store: and a Slack-side client that signs what it sends."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from slack_bolt import App
from slack_sdk import WebClient

from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.organisation import Organisation
from bot.engine.people import Person
from bot.engine.replies import Supervisor
from bot.engine.signposts import Signposts, load_signposts
from bot.engine.supervisor_suggestion import SuggestionPolicy
from bot.engine.supervisors import load_directory
from bot.runtime import build_weekly, installed_over, organisations_over
from bot.settings import Settings
from bot.slack.app import build_slack
from bot.slack.delivery.gateway import web_client
from bot.slack.delivery.lanes import Lanes
from bot.slack.delivery.names import Profiles
from bot.slack.delivery.poster import Poster
from bot.slack.identity import workspace_of
from bot.slack.parts import Parts
from bot.slack.serving.http import HttpServer
from bot.store.organisations import Organisations
from bot.store.sqlite import SqliteStore
from bot.weekly.actions import WeeklyActions
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import signed_headers

ROOT = Path(__file__).resolve().parents[2]
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@functools.cache
def library() -> FlowLibrary:
    flows = [
        Flow.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted((ROOT / "flows").glob("*.yaml"))
    ]
    return FlowLibrary(flows, default="hard-day")


@functools.cache
def signposts() -> Signposts:
    return load_signposts(ROOT / "config" / "signposts.yaml")


@functools.cache
def supervisors() -> tuple[Supervisor, ...]:
    return load_directory(ROOT / "config" / "supervisors.yaml").supervisors


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
    #: The fake Slack it talks to.
    fake: FakeSlack | None = None
    #: What the app's listeners share (its outbox, its delivery).
    parts: Parts | None = None

    def close(self) -> None:
        self.lanes.close()
        self.store.close()

    def __enter__(self) -> Bot:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def settle(self) -> None:
        assert self.lanes.wait_idle(timeout=10), "posting did not finish"


def make_bot(
    fake: FakeSlack,
    tmp_path: Path,
    *,
    now: dt.datetime | None = None,
    weekly: bool = False,
    store: Any = None,
    timeout: float = 2,
    organisations: bool = False,
    clock: Any = None,
    lanes: Lanes | None = None,
    **settings: Any,
) -> Bot:
    """The one way tests build the Slack app: as `reflect run` does (the weekly reminders
    wired in by bot.runtime when `weekly`), over a real store, talking to `fake` with a
    client that does not really sleep between retries and gives up after `timeout`; on
    `store` (default: a new SQLite file under tmp_path). With `organisations`, each workspace's
    own settings apply, wired as `reflect run` wires them."""
    config = settings_for(fake, **settings)
    store = store or SqliteStore.open(tmp_path / "reflect.db", secret=b"s" * 32)
    clock = clock or ((lambda: now) if now else (lambda: dt.datetime.now(dt.UTC)))
    conversations = Conversations(
        library=library(),
        store=store,
        signposts=signposts(),
        suggestions=SuggestionPolicy(supervisors=supervisors()),
        clock=clock,
        organisation_of=_organisations(store, config) if organisations else None,
    )
    sleeps: list[float] = []
    client = web_client(settings=config, sleep=sleeps.append, backoff=0.001, timeout=timeout)
    lanes = lanes or Lanes(workers=4)
    app, parts = build_slack(
        conversations=conversations,
        store=store,
        settings=config,
        client=client,
        lanes=lanes,
        clock=clock,
        weekly=_weekly_actions(config, store) if weekly else None,
        installed=installed_over(config, store, clock=clock),
    )
    return Bot(app, store, lanes, conversations, sleeps=sleeps, fake=fake, parts=parts)


@contextmanager
def talking_to(bot: Bot, *, response_url: str | None = None) -> Iterator[SlackSide]:
    """Slack's side of the conversation with `bot`, served over loopback while in use."""
    served = Served(bot.app)
    side = SlackSide(url=served.url, response_url=response_url)
    try:
        yield side
    finally:
        side.http.close()
        served.close()


class Served:
    """The app behind waitress on an ephemeral loopback port."""

    def __init__(self, app: App, *, signing_secret: str | None = SECRET) -> None:
        self.server = HttpServer(
            app=app, host="127.0.0.1", port=0, threads=4, signing_secret=signing_secret
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def close(self) -> None:
        self.server.stop()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive(), "the HTTP server did not stop"


class SlackSide:
    """What Slack sends the app over HTTP, signed as Slack signs it."""

    def __init__(self, *, url: str, secret: str = SECRET, response_url: str | None = None) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)
        self.secret = secret
        #: Where slash commands say their answers go after the ack (e.g. the fake Slack's).
        self.response_url = response_url

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

    def event(
        self, event: dict[str, Any], *, retry_num: int | None = None, **envelope: Any
    ) -> httpx.Response:
        return self.envelope(payloads.event_callback(event, **envelope), retry_num=retry_num)

    def envelope(self, body: dict[str, Any], *, retry_num: int | None = None) -> httpx.Response:
        headers = (
            {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            if retry_num
            else {}
        )
        return self.send(
            json.dumps(body).encode(), content_type="application/json", headers=headers
        )

    def command(self, user: str, text: str, **extra: Any) -> httpx.Response:
        if self.response_url:
            extra.setdefault("response_url", self.response_url)
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
        for part in [
            block.get("text"),
            *(block.get("elements") or []),
            *(block.get("fields") or []),
        ]:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                words.append(part["text"])
    return "\n".join(words)


class Leader:
    """A person using Reflect in Slack, for end-to-end tests."""

    def __init__(self, *, user_id: str, slack: SlackSide, fake: FakeSlack, bot: Bot) -> None:
        self.user_id = user_id
        self.slack = slack
        self.fake = fake
        self.bot = bot
        self.person = Person(id=f"T1:{user_id}")

    @property
    def dm(self) -> str:
        return self.fake.dm_of(self.user_id)

    def messages(self) -> list[dict[str, Any]]:
        return self.fake.messages(self.dm)

    def says(self, text: str) -> httpx.Response:
        response = self.slack.event(payloads.message_im(self.user_id, text))
        self.bot.settle()
        return response

    def types(self, text: str) -> httpx.Response:
        response = self.slack.command(self.user_id, text)
        self.bot.settle()
        return response

    def question_message(self) -> tuple[dict[str, Any], str]:
        """The newest message with a question's controls, and their block id."""
        for message in reversed(self.messages()):
            for block in message.get("blocks") or []:
                if block.get("type") == "actions" and str(block.get("block_id", "")).startswith(
                    "q|"
                ):
                    return message, block["block_id"]
        raise AssertionError("no question with buttons in the DM")

    def clicks(
        self,
        value: str | list[str],
        *,
        as_user: str | None = None,
        message: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Click the option `value` (or tick `values` and press Done) on the newest question."""
        found, block_id = (message, "") if message else self.question_message()
        if message is not None:
            block_id = next(
                b["block_id"]
                for b in message["blocks"]
                if str(b.get("block_id", "")).startswith("q|")
            )
        controls = next(b for b in found["blocks"] if b.get("block_id") == block_id)["elements"]
        state: dict[str, Any] = {}
        if isinstance(value, list):
            picker = controls[0]
            chosen = [o for o in picker["options"] if o["value"] in value]
            state = {
                block_id: {"answer_pick": {"type": picker["type"], "selected_options": chosen}}
            }
            action = {"type": "button", "action_id": "answer_done", "block_id": block_id}
        elif controls[0]["type"] == "static_select":
            option = next(o for o in controls[0]["options"] if o["value"] == value)
            action = {
                "type": "static_select",
                "action_id": "answer_select",
                "block_id": block_id,
                "selected_option": option,
            }
        else:
            button = next(e for e in controls if e.get("value") == value)
            action = {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": block_id,
                "value": value,
            }
        payload = payloads.block_actions(
            as_user or self.user_id, message=found, channel=self.dm, action=action, state=state
        )
        response = self.slack.interact(payload)
        self.bot.settle()
        return response

    def presses(
        self, action_id: str, *, value: str | None = None, block_id: str | None = None
    ) -> httpx.Response:
        """Press a button (not a question's) on the newest message that has it."""
        for message in reversed(self.messages()):
            for block, element in buttons(message):
                if element.get("action_id") == action_id:
                    action = {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": block or block_id or "b",
                        "value": element.get("value") or value,
                    }
                    response = self.slack.interact(
                        payloads.block_actions(
                            self.user_id, message=message, channel=self.dm, action=action
                        )
                    )
                    self.bot.settle()
                    return response
        raise AssertionError(f"no button {action_id} in the DM")

    def writes_privately(self, text: str, *, as_user: str | None = None) -> httpx.Response | None:
        """Press "Write privately" on the newest question, then submit `text` in the modal that
        opens (None if none opened, as for someone else's question)."""
        message, block_id = self.question_message()
        button = next(
            e for b, e in buttons(message) if b == block_id and e["action_id"] == "write_privately"
        )
        opened = len(self.fake.opened_views)
        action = {"type": "button", "action_id": button["action_id"], "block_id": block_id}
        self.slack.interact(
            payloads.block_actions(
                as_user or self.user_id, message=message, channel=self.dm, action=action
            )
        )
        self.bot.settle()
        if len(self.fake.opened_views) == opened:
            return None
        view = self.fake.opened_views[-1]
        submission = payloads.view_submission(self.user_id, callback_id=view["callback_id"])
        submission["view"]["private_metadata"] = view["private_metadata"]
        submission["view"]["state"] = {
            "values": {"answer": {"answer_text": {"type": "plain_text_input", "value": text}}}
        }
        response = self.slack.interact(submission)
        self.bot.settle()
        return response

    def answer_everything(self, *, by: str = "typing", limit: int = 30) -> list[str]:
        """Answer each question until the flow ends; returns the step ids answered."""
        steps: list[str] = []
        for _ in range(limit):
            question = self.bot.conversations.current(self.person)
            if question is None:
                return steps
            steps.append(question.step_id)
            if by == "clicking" and question.step_kind in ("choice", "scale", "follow_up"):
                value = question.choices[0].value if question.choices else str(question.scale.min)  # type: ignore[union-attr]
                self.clicks(value)
            elif by == "clicking" and question.step_kind == "multi":
                self.clicks([question.choices[0].value, question.choices[-1].value])
            elif question.step_kind in ("choice", "multi", "follow_up"):
                self.says("1")
            elif question.step_kind == "scale":
                self.says(str(question.scale.max))  # type: ignore[union-attr]
            else:
                self.says(f"An answer to {question.step_id}")
        raise AssertionError("the flow did not end")


def make_parts(bot: Bot) -> Parts:
    """What the listeners share, for calling a module's functions directly."""
    client = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    return Parts(
        conversations=bot.conversations,
        store=bot.store,
        settings=Settings(),
        delivery=Poster(client=client),
        lanes=bot.lanes,
        profiles=Profiles(client=client),
        clock=bot.conversations.clock,
    )


def _organisations(store: Any, config: Settings) -> Organisations:
    flows = library()
    defaults = Organisation(
        signposts=signposts(),
        supervisors=supervisors(),
        default_flow=flows.default,
        retention_days=config.retention_days,
    )
    return organisations_over(
        store=store,
        defaults=defaults,
        flows=frozenset(flow.id for flow in flows),
        workspace_of=workspace_of,
        warn=lambda _: None,
    )


def _weekly_actions(config: Settings, store: Any) -> WeeklyActions:
    built = build_weekly(settings=config, store=store)
    assert built is not None, "the weekly reminders run on the SQLite store only, so far"
    return built[0]
