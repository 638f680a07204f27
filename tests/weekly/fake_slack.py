"""A small Slack Web API for the weekly nudge tests, on loopback, with faults on demand.

It keeps a workspace in memory (people, channels, DMs) and serves the methods the scheduler and
the /reflect weekly command use. Faults: 429s with Retry-After, 500s, and a post that is
processed but whose connection is dropped before Slack's answer is sent.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class User:
    id: str
    tz: str | None = "Europe/London"
    deleted: bool = False
    is_bot: bool = False
    is_admin: bool = False


@dataclass
class Workspace:
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, list[str]] = field(default_factory=dict)
    #: Channels the bot is in (others answer not_in_channel).
    readable: set[str] = field(default_factory=set)
    #: Every message, per DM channel, as Slack would return it in conversations.history.
    dms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    #: Faults, each a count of the next chat.postMessage calls it applies to.
    rate_limit_posts: int = 0
    retry_after: int = 3
    fail_posts: int = 0
    drop_posts: int = 0
    fail_history: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _dm_ids: dict[str, str] = field(default_factory=dict)
    #: Message timestamps follow this clock (Slack's ts is the time of posting).
    clock: Callable[[], dt.datetime] | None = None

    def dm_of(self, user: str) -> str:
        """The DM channel between the bot and `user` (an id unlike the user's, as in Slack)."""
        if user not in self._dm_ids:
            self._dm_ids[user] = f"D{len(self._dm_ids) + 1:08d}"
        return self._dm_ids[user]

    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def add_channel(self, channel: str, members: list[str], *, bot_in: bool = True) -> None:
        self.channels[channel] = list(members)
        if bot_in:
            self.readable.add(channel)

    def nudges_to(self, user: str) -> list[dict[str, Any]]:
        return [
            message
            for message in self.dms.get(self.dm_of(user), [])
            if (message.get("metadata") or {}).get("event_type") == "reflect_weekly_nudge"
        ]

    def nudge_counts(self) -> dict[str, int]:
        return {user: len(self.nudges_to(user)) for user in self.users}

    # ------------------------------------------------------------------ methods

    def handle(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        """(HTTP status, body, fault) where fault is '' or 'drop'."""
        with self.lock:
            self.calls.append(method)
            handler = getattr(self, "m_" + method.replace(".", "_"), None)
            if handler is None:
                return 404, {"ok": False, "error": "unknown_method"}, ""
            return handler(args)

    def m_auth_test(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        return 200, {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B1"}, ""

    def m_conversations_members(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        channel = args.get("channel", "")
        if channel not in self.channels:
            return 200, {"ok": False, "error": "channel_not_found"}, ""
        if channel not in self.readable:
            return 200, {"ok": False, "error": "not_in_channel"}, ""
        members = self.channels[channel]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = members[start : start + limit]
        following = str(start + limit) if start + limit < len(members) else ""
        return (
            200,
            {
                "ok": True,
                "members": page,
                "response_metadata": {"next_cursor": following},
            },
            "",
        )

    def m_users_info(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return 200, {"ok": False, "error": "user_not_found"}, ""
        body: dict[str, Any] = {
            "id": user.id,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "is_admin": user.is_admin,
        }
        if user.tz:
            body["tz"] = user.tz
        return 200, {"ok": True, "user": body}, ""

    def m_conversations_open(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        user = self.users.get(args.get("users", ""))
        if user is None:
            return 200, {"ok": False, "error": "user_not_found"}, ""
        return 200, {"ok": True, "channel": {"id": self.dm_of(user.id)}}, ""

    def m_chat_postMessage(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        if self.rate_limit_posts:
            self.rate_limit_posts -= 1
            return 429, {"ok": False, "error": "ratelimited"}, ""
        if self.fail_posts:
            self.fail_posts -= 1
            return 500, {"ok": False, "error": "internal_error"}, ""
        channel = str(args.get("channel", ""))
        user = self.users.get(channel)
        if user is None and channel.startswith("D"):
            by_dm = {dm: user for user, dm in self._dm_ids.items()}
            user = self.users.get(by_dm.get(channel, ""))
        if user is None:
            if channel in self.channels:
                return self._post_in(channel, args)
            return 200, {"ok": False, "error": "channel_not_found"}, ""
        if user.deleted:
            return 200, {"ok": False, "error": "account_inactive"}, ""
        status, body, _ = self._post_in(self.dm_of(user.id), args)
        if self.drop_posts:
            self.drop_posts -= 1
            return status, body, "drop"
        return status, body, ""

    def _post_in(self, channel: str, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        seconds = int(self.clock().timestamp()) if self.clock else 1700000000
        ts = f"{seconds}.{next(self._ts):06d}"
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        message = {"ts": ts, "text": args.get("text", ""), "blocks": blocks or []}
        if metadata:
            message["metadata"] = metadata
        self.dms.setdefault(channel, []).append(message)
        return 200, {"ok": True, "channel": channel, "ts": ts, "message": message}, ""

    def m_chat_update(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        for message in self.dms.get(str(args.get("channel")), []):
            if message["ts"] == args.get("ts"):
                blocks = args.get("blocks")
                message["text"] = args.get("text", message["text"])
                message["blocks"] = json.loads(blocks) if isinstance(blocks, str) else blocks
                return 200, {"ok": True, "channel": args["channel"], "ts": message["ts"]}, ""
        return 200, {"ok": False, "error": "message_not_found"}, ""

    def m_conversations_history(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        if self.fail_history:
            self.fail_history -= 1
            return 500, {"ok": False, "error": "internal_error"}, ""
        oldest = float(args.get("oldest") or 0)
        everything = str(args.get("include_all_metadata", "")).lower() in {"1", "true"}
        found = []
        for message in reversed(self.dms.get(str(args.get("channel")), [])):
            if float(message["ts"]) < oldest:
                continue
            shown = dict(message)
            if not everything:
                shown.pop("metadata", None)
            found.append(shown)
        return 200, {"ok": True, "messages": found, "has_more": False}, ""


class _Handler(BaseHTTPRequestHandler):
    workspace: Workspace
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _args(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        query = self.path.partition("?")[2]
        args: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
        if "json" in (self.headers.get("Content-Type") or ""):
            args.update(json.loads(raw or "{}"))
        else:
            args.update({k: v[0] for k, v in parse_qs(raw).items()})
        return args

    def _serve(self) -> None:
        method = self.path.partition("?")[0].rstrip("/").rsplit("/", 1)[-1]
        status, body, fault = self.workspace.handle(method, self._args())
        if fault == "drop":
            self.close_connection = True
            self.connection.close()
            return
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", str(self.workspace.retry_after))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve


@contextmanager
def serve(workspace: Workspace) -> Iterator[str]:
    """Serve the workspace on loopback; yields the base URL for WebClient."""
    handler = type("Handler", (_Handler,), {"workspace": workspace})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()


class InProcessSlack:
    """The scheduler's Slack port straight onto a Workspace, without HTTP: for large runs where
    thousands of loopback requests would only add seconds. Same faults, same answers."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def _call(self, method: str, **args: Any) -> dict[str, Any]:
        from bot.slack.delivery.reminder_api import RateLimited, SlackRefused, SlackUnavailable

        status, body, fault = self.workspace.handle(method, args)
        if status == 429:
            raise RateLimited(float(self.workspace.retry_after))
        if status >= 500 or fault == "drop":
            raise SlackUnavailable(method)
        if not body.get("ok"):
            raise SlackRefused(str(body.get("error")))
        return body

    def channel_members(self, channel: str) -> list[str]:
        members: list[str] = []
        cursor = ""
        while True:
            data = self._call("conversations.members", channel=channel, limit=200, cursor=cursor)
            members += data["members"]
            cursor = data["response_metadata"]["next_cursor"]
            if not cursor:
                return members

    def profile(self, user: str) -> Any:
        from bot.slack.delivery.reminder_api import Profile

        data = self._call("users.info", user=user)["user"]
        return Profile(
            tz=data.get("tz"),
            deleted=data["deleted"],
            is_bot=data["is_bot"],
            is_admin=data["is_admin"],
        )

    def open_dm(self, user: str) -> str:
        return str(self._call("conversations.open", users=user)["channel"]["id"])

    def post(self, *, channel: str, text: str, blocks: list[dict[str, Any]], entry_id: str) -> Any:
        from bot.slack.delivery.reminder_api import METADATA_TYPE, Posted

        data = self._call(
            "chat.postMessage",
            channel=channel,
            text=text,
            blocks=blocks,
            metadata={"event_type": METADATA_TYPE, "event_payload": {"delivery": entry_id}},
        )
        return Posted(channel=data["channel"], ts=data["ts"])

    def find_nudge(self, *, dm_channel: str, entry_id: str, since: Any) -> str | None:
        from bot.slack.delivery.reminder_api import is_nudge

        data = self._call(
            "conversations.history",
            channel=dm_channel,
            oldest=f"{since.timestamp():.6f}",
            include_all_metadata="true",
        )
        for message in data["messages"]:
            if is_nudge(message, entry_id):
                return str(message["ts"])
        return None
