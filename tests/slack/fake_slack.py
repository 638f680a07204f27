"""The fake Slack Web API on loopback, for every test (conversations, App Home, the weekly
reminders): it keeps a small workspace in memory, records every call, and fails on demand.

    fake = FakeSlack().start()            # serving at fake.url ("http://127.0.0.1:PORT/api/")
    fake.add_user("U1", first_name="Sam", tz="Europe/London")
    fake.add_channel("C1", members=["U1", "U2"])
    fake.fail("chat.postMessage", status=429, retry_after=0, times=1)
    ...                                    # point a WebClient(base_url=fake.url) at it
    fake.calls("chat.postMessage")        # every attempt, faulted or not: [Call, ...]
    fake.messages("DU1")                  # what is in a channel now (after chat.update)
    fake.stop()

Methods: oauth.v2.access (installs and token rotation, below), auth.test, chat.postMessage
(keeps `metadata`; a user id as the channel posts in their
DM, as Slack does), chat.update, chat.delete (the bot's own messages only),
conversations.open (a DM is "D" + the user id), conversations.replies (a thread, oldest first),
conversations.history (newest first, after
`oldest`, or from it with `inclusive`, with metadata, paginated),
conversations.members (paginated; not_in_channel where the bot was not invited),
conversations.info, users.info (tz, tz_offset, deleted, is_bot, is_admin, profile.first_name),
users.list (the same users, by id, paginated: `limit` up to 1000, `cursor`),
views.publish, views.open, apps.connections.open (answers `socket_url`), and a slash command's
response URL (`{url}respond`). Unknown methods answer {"ok": false, "error": "unknown_method"}.
Message ts follow `clock` when one is set (Slack's ts is the time of posting).

Faults (`fail`), applied to the next `times` calls of a method, in the order added:
- status=429 with retry_after (seconds; fractions allowed, "0" for tests) and error "ratelimited";
- status=500 (or any 5xx) answering {"ok": false, "error": "internal_error"};
- error="channel_not_found" (or any code) with status 200: Slack's ok:false;
- delay=SECONDS before answering (with a client timeout below it: a timeout);
- drop=True: the connection is closed with no answer; with processed=True the call takes
  effect first (a post that was made but whose answer was lost).
Deleted users: conversations.open answers user_disabled, users.info still answers (deleted=true).

Rate limits (`limit`, or `enforce_tiers` for Slack's published tiers): a token bucket per method
(per workspace and app, as Slack counts), refilled on `limit_clock` (monotonic seconds by
default; a test's fake clock to run in simulated time). Over it: HTTP 429, error "ratelimited",
Retry-After in whole seconds (at least 1, as Slack sends it), and nothing done. Accepted calls'
times are kept per method (`accepted`), refusals counted (`refused`).

Installs over OAuth, several workspaces in one fake: `code = fake.grant("T2", installer="U9")`
is what Slack's authorize page hands the browser after someone approves (`enterprise_id=` and
`org_wide=True` for an organisation-wide install on Enterprise Grid); oauth.v2.access turns the
code into a bot token (xoxe.xoxb-…) with a refresh token, expiring after `token_lifetime`
seconds (None: a token that never expires and no refresh token), and with
grant_type=refresh_token rotates them: a new pair, the old refresh token spent. Once anything
was installed, every call must carry a live token (`invalid_auth`, `token_expired`,
`token_revoked` otherwise) and sees only its own workspace's people (`user_not_found`).
`fake.expire("T2")` makes a workspace's current tokens expire now; `fake.uninstall("T2")`
revokes them.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

JSON_FIELDS = ("blocks", "view", "metadata", "attachments")


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    faulted: bool


@dataclass
class Fault:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    drop: bool = False
    processed: bool = False
    times: int = 1


@dataclass
class Bucket:
    """A method's rate limit: `rate` calls a second, bursts of `burst`."""

    rate: float
    burst: float
    tokens: float
    at: float | None = None


#: Slack's published tiers, calls a minute (api.slack.com/apis/rate-limits), and the methods the
#: reminders call in each. chat.postMessage has its own limit (about one a second per channel,
#: and a workspace-wide limit Slack does not publish): `enforce_tiers(post_rate=...)`.
TIERS = {
    "users.list": 20,  # tier 2
    "conversations.open": 50,  # tier 3
    "conversations.history": 50,  # tier 3
    "users.info": 100,  # tier 4
    "conversations.members": 100,  # tier 4
}


@dataclass
class User:
    id: str
    team_id: str = "T1"
    first_name: str | None = None
    tz: str | None = "Europe/London"
    tz_offset: int = 0
    deleted: bool = False
    is_bot: bool = False
    is_admin: bool = False

    def as_slack(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.id.lower(),
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_admin": self.is_admin,
            "tz_offset": self.tz_offset,
            "profile": {"first_name": self.first_name or "", "real_name": self.first_name or ""},
        } | ({"tz": self.tz} if self.tz else {})


@dataclass
class Install:
    """Whom a code or a token was given for."""

    team_id: str | None
    enterprise_id: str | None = None
    org_wide: bool = False
    installer: str = ""


@dataclass
class Token:
    install: Install
    expires_at: float | None = None
    revoked: bool = False


@dataclass
class Channel:
    id: str
    members: list[str] = field(default_factory=list)
    name: str = ""
    is_private: bool = False
    is_im: bool = False
    user: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: Whether the bot was invited (if not, conversations.members answers not_in_channel).
    bot_in: bool = True


class FakeSlack:
    def __init__(
        self, *, team_id: str = "T1", bot_user_id: str = "UBOT", app_id: str = "A1"
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.app_id = app_id
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.opened_views: list[dict[str, Any]] = []
        #: What apps.connections.open answers (set by the Socket Mode fake).
        self.socket_url = "ws://127.0.0.1:1/"
        #: When set, message ts follow it (as Slack's follow the time of posting).
        self.clock: Callable[[], dt.datetime] | None = None
        self._calls: list[Call] = []
        self._faults: dict[str, list[Fault]] = {}
        self._ts = itertools.count(1)
        self._lock = threading.RLock()
        #: Rate limits by method (see `limit`), on `limit_clock`'s seconds.
        self.limits: dict[str, Bucket] = {}
        self.limit_clock: Callable[[], float] = time.monotonic
        self.accepted: dict[str, list[float]] = {}
        self.refused: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        #: OAuth: the app's credentials, what approved installs gave, and the tokens out.
        self.client_id = "1111.2222"
        self.client_secret = "fake-client-secret"
        self.token_lifetime: int | None = 43200
        #: Which Grid organisation each workspace belongs to (if any).
        self.enterprise_of: dict[str, str] = {}
        self._codes: dict[str, Install] = {}
        self._tokens: dict[str, Token] = {}
        self._refresh_tokens: dict[str, Install] = {}
        self._issued = itertools.count(1)
        self._caller: Token | None = None

    # ------------------------------------------------------------------ running

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    # ------------------------------------------------------------------ the workspace

    def add_user(self, user: str | User, **details: Any) -> User:
        """A person, by id and details, or as a `User`."""
        if isinstance(user, str):
            details.setdefault("team_id", self.team_id)
            user = User(id=user, **details)
        with self._lock:
            self.users[user.id] = user
            return user

    def add_channel(self, channel_id: str, members: Sequence[str] = (), **details: Any) -> Channel:
        with self._lock:
            self.channels[channel_id] = Channel(id=channel_id, members=list(members), **details)
            return self.channels[channel_id]

    def dm_of(self, user_id: str) -> str:
        return f"D{user_id}"

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
        drop: bool = False,
        processed: bool = False,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail this way (see the module docstring)."""
        if error is None and status == 429:
            error = "ratelimited"
        if error is None and status >= 500:
            error = "internal_error"
        fault = Fault(status, error, retry_after, delay, drop, processed, times)
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def limit(self, method: str, *, per_second: float, burst: float | None = None) -> None:
        """At most `per_second` calls of `method` a second, in bursts of `burst` (default:
        a tenth of a minute's worth, at least 1)."""
        size = burst if burst is not None else max(1.0, per_second * 6)
        with self._lock:
            self.limits[method] = Bucket(rate=per_second, burst=size, tokens=size)

    def enforce_tiers(
        self, *, post_rate: float = 5.0, clock: Callable[[], float] | None = None
    ) -> None:
        """Slack's tiers for the methods in TIERS, and `post_rate` chat.postMessage a second."""
        if clock is not None:
            self.limit_clock = clock
        for method, per_minute in TIERS.items():
            self.limit(method, per_second=per_minute / 60)
        self.limit("chat.postMessage", per_second=post_rate)

    def _over_limit(self, method: str) -> float | None:
        """Take a token for `method`: None if there was one, else the Retry-After to answer."""
        with self._lock:
            bucket = self.limits.get(method)
            now = self.limit_clock()
            if bucket is not None:
                if bucket.at is not None:
                    bucket.tokens = min(
                        bucket.burst, bucket.tokens + max(0.0, now - bucket.at) * bucket.rate
                    )
                bucket.at = now
                if bucket.tokens < 1:
                    self.refused[method] = self.refused.get(method, 0) + 1
                    return float(max(1, math.ceil((1 - bucket.tokens) / bucket.rate)))
                bucket.tokens -= 1
            self.accepted.setdefault(method, []).append(now)
            return None

    # ------------------------------------------------------------------ installs

    def grant(
        self,
        team_id: str | None,
        *,
        installer: str,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> str:
        """A code for oauth.v2.access, as Slack gives one after someone approves the app."""
        code = f"code-{next(self._issued)}"
        with self._lock:
            if enterprise_id and team_id:
                self.enterprise_of[team_id] = enterprise_id
            self._codes[code] = Install(team_id, enterprise_id, org_wide, installer)
        return code

    def expire(self, team_id: str) -> None:
        """The workspace's tokens expire now (a refresh is needed to carry on)."""
        with self._lock:
            for token in self._tokens.values():
                if token.install.team_id == team_id or token.install.enterprise_id == team_id:
                    token.expires_at = time.time() - 1

    def uninstall(self, team_id: str) -> None:
        """The app is removed from the workspace (or organisation): its tokens stop working."""
        with self._lock:
            for token in self._tokens.values():
                if token.install.team_id == team_id or token.install.enterprise_id == team_id:
                    token.revoked = True
            self._refresh_tokens = {
                refresh: install
                for refresh, install in self._refresh_tokens.items()
                if team_id not in (install.team_id, install.enterprise_id)
            }

    def tokens_of(self, team_id: str) -> list[str]:
        """The tokens given out for a workspace (or organisation), oldest first."""
        with self._lock:
            return [
                token
                for token, found in self._tokens.items()
                if team_id in (found.install.team_id, found.install.enterprise_id)
            ]

    def _issue(self, install: Install) -> dict[str, Any]:
        number = next(self._issued)
        access = f"xoxe.xoxb-{number}-fake"
        lifetime = self.token_lifetime
        self._tokens[access] = Token(
            install, expires_at=time.time() + lifetime if lifetime is not None else None
        )
        found: dict[str, Any] = {"access_token": access, "token_type": "bot"}
        if lifetime is not None:
            refresh = f"xoxe-1-{number}-fake"
            self._refresh_tokens[refresh] = install
            found |= {"refresh_token": refresh, "expires_in": lifetime}
        return found

    def _oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        if (args.get("client_id"), args.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            install = self._refresh_tokens.pop(str(args.get("refresh_token")), None)
            if install is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return {"ok": True} | self._issue(install)
        install = self._codes.pop(str(args.get("code")), None)
        if install is None:
            return {"ok": False, "error": "invalid_code"}
        team = {"id": install.team_id, "name": f"Team {install.team_id}"}
        enterprise = (
            {"id": install.enterprise_id, "name": "Grid"} if install.enterprise_id else None
        )
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": install.installer},
            "scope": "chat:write,commands,im:history,im:write,users:read",
            "bot_user_id": self.bot_user_id,
            "team": None if install.org_wide else team,
            "enterprise": enterprise,
            "is_enterprise_install": install.org_wide,
        } | self._issue(install)

    def _refused(self, method: str, token: str | None) -> dict[str, Any] | None:
        """Once something is installed: a call without a live token is refused."""
        self._caller = None
        if not self._tokens or method in ("oauth.v2.access", "respond"):
            return None
        found = self._tokens.get(token or "")
        if found is None:
            return {"ok": False, "error": "invalid_auth"}
        if found.revoked:
            return {"ok": False, "error": "token_revoked"}
        if found.expires_at is not None and found.expires_at < time.time():
            return {"ok": False, "error": "token_expired"}
        self._caller = found
        return None

    def _sees(self, user_id: str) -> bool:
        """Whether the calling token's workspace (or organisation) has this person."""
        caller, user = self._caller, self.users.get(user_id)
        if caller is None or user is None:
            return True
        if caller.install.org_wide:
            return self.enterprise_of.get(user.team_id) == caller.install.enterprise_id
        return user.team_id == caller.install.team_id

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def reminders_to(self, user_id: str) -> list[dict[str, Any]]:
        """The weekly reminders in a person's DM (messages carrying the reminder metadata)."""
        return [
            message
            for message in self.messages(self.dm_of(user_id))
            if (message.get("metadata") or {}).get("event_type") == "reflect_weekly_nudge"
        ]

    def reminder_counts(self) -> dict[str, int]:
        with self._lock:
            users = list(self.users)
        return {user: len(self.reminders_to(user)) for user in users}

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages in a channel, oldest first, as they are now."""
        with self._lock:
            found = self._channel(channel)
            return [dict(m) for m in found.messages] if found else []

    # ------------------------------------------------------------------ HTTP

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        method = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        args = _parse(raw, request.headers.get("Content-Type") or "", request.path)
        auth = request.headers.get("Authorization") or ""
        if auth.startswith("Basic "):  # oauth.v2.access: the app's own credentials
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            args.setdefault("client_id", client_id)
            args.setdefault("client_secret", client_secret)
            auth = ""
        token = auth.removeprefix("Bearer ") or args.get("token")
        fault = self._take_fault(method)
        if fault is None:
            wait = self._over_limit(method)
            if wait is not None:
                fault = Fault(status=429, error="ratelimited", retry_after=wait)
        with self._lock:
            self._calls.append(Call(method, args, token, faulted=fault is not None))
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            if fault.processed:
                self._handle(method, args, token)
            request.close_connection = True
            return
        headers: dict[str, str] = {}
        if fault is not None and (fault.status != 200 or fault.error):
            status, body = fault.status, {"ok": False, "error": fault.error}
            if fault.retry_after is not None:
                headers["Retry-After"] = _seconds(fault.retry_after)
        else:
            status, body = 200, self._handle(method, args, token)
        data = json.dumps(body).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method) or []
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _handle(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self._lock:
            refused = self._refused(method, token)
            if refused is not None:
                return refused
            result: dict[str, Any] = handler(args)
            return result

    # ------------------------------------------------------------------ methods

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        install = self._caller.install if self._caller else Install(self.team_id)
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": "Test",
            "user": "reflect",
            "team_id": install.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B1",
            "app_id": self.app_id,
            "is_enterprise_install": install.org_wide,
        } | ({"enterprise_id": install.enterprise_id} if install.enterprise_id else {})

    def _channel(self, channel_id: str) -> Channel | None:
        """A channel; a person's DM with the bot exists as soon as they are in the workspace,
        and a user id names it too (as chat.postMessage takes one)."""
        if channel_id in self.users:
            channel_id = self.dm_of(channel_id)
        user = self.users.get(channel_id[1:]) if channel_id.startswith("D") else None
        if channel_id not in self.channels and user is not None and not user.deleted:
            self.channels[channel_id] = Channel(
                id=channel_id, members=[user.id], is_im=True, user=user.id
            )
        return self.channels.get(channel_id)

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        target = str(args.get("channel"))
        if not self._sees(target[1:] if target.startswith("D") else target):
            return {"ok": False, "error": "channel_not_found"}
        named = self.users.get(str(args.get("channel")))
        if named is not None and named.deleted:
            return {"ok": False, "error": "account_inactive"}
        channel = self._channel(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not channel.is_im and self.bot_user_id not in channel.members:
            return {"ok": False, "error": "not_in_channel"}
        ts = self._next_ts()
        message = {
            "type": "message",
            "ts": ts,
            "user": self.bot_user_id,
            "bot_id": "B1",
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
        }
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        channel.messages.append(message)
        return {"ok": True, "channel": channel.id, "ts": ts, "message": message}

    def _next_ts(self) -> str:
        if self.clock is None:
            return f"{1_700_000_000 + next(self._ts)}.000100"
        return f"{int(self.clock().timestamp())}.{next(self._ts):06d}"

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args.get("channel")))
        found = [m for m in channel.messages if m["ts"] == args.get("ts")] if channel else []
        if not found:
            return {"ok": False, "error": "message_not_found"}
        found[0].update(text=args.get("text", ""), blocks=args.get("blocks") or [])
        return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": args.get("text")}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args.get("channel")))
        found = [m for m in channel.messages if m["ts"] == args.get("ts")] if channel else []
        if not found or channel is None:
            return {"ok": False, "error": "message_not_found"}
        if found[0].get("user") != self.bot_user_id:
            return {"ok": False, "error": "cant_delete_message"}
        channel.messages.remove(found[0])
        return {"ok": True, "channel": channel.id, "ts": args["ts"]}

    def add_message(self, channel_id: str, *, user: str, text: str) -> dict[str, Any]:
        """A message someone typed (as Slack keeps it in the channel's history)."""
        with self._lock:
            channel = self._channel(channel_id)
            assert channel is not None
            ts = f"{1_700_000_000 + next(self._ts)}.000100"
            message = {"type": "message", "ts": ts, "user": user, "text": text}
            channel.messages.append(message)
            return message

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("users") or "").split(",")[0]
        user = self.users.get(user_id)
        if user is None or not self._sees(user_id):
            return {"ok": False, "error": "user_not_found"}
        if user.deleted:
            return {"ok": False, "error": "user_disabled"}
        dm = self._channel(self.dm_of(user_id))
        assert dm is not None
        return {"ok": True, "channel": {"id": dm.id}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        inclusive = str(args.get("inclusive") or "").lower() in ("1", "true")
        newest_first = [
            m
            for m in reversed(channel.messages)
            if float(m["ts"]) > oldest or (inclusive and float(m["ts"]) == oldest)
        ]
        return _listing(newest_first, args)

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent and replies, oldest first, after `oldest`."""
        channel = self._channel(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        parent, oldest = str(args.get("ts")), float(args.get("oldest") or 0)
        thread = [
            m
            for m in channel.messages
            if (m["ts"] == parent or m.get("thread_ts") == parent) and float(m["ts"]) > oldest
        ]
        return _listing(thread, args)

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not channel.bot_in:
            return {"ok": False, "error": "not_in_channel"}
        members, cursor = _page(channel.members, args)
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": cursor}}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": channel.id,
                "name": channel.name,
                "is_private": channel.is_private,
                "is_im": channel.is_im,
                "is_member": self.bot_user_id in channel.members or channel.is_im,
                "user": channel.user,
            },
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None or not self._sees(user.id):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user.as_slack()}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        if int(args.get("limit") or 0) > 1000:
            return {"ok": False, "error": "invalid_limit"}
        ids, cursor = _page(sorted(self.users), args)
        members = [self.users[user].as_slack() for user in ids]
        return {"ok": True, "members": members, "response_metadata": {"next_cursor": cursor}}

    def _respond(self, args: dict[str, Any]) -> dict[str, Any]:
        """A slash command's response URL (`{url}respond`): what the person alone is shown."""
        return {"ok": True}

    def responses(self) -> list[str]:
        """The texts sent to the response URL, oldest first."""
        return [str(call.args.get("text", "")) for call in self.calls("respond")]

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user_id"))
        if user_id not in self.users or not self._sees(user_id):
            return {"ok": False, "error": "user_not_found"}
        view = dict(args.get("view") or {})
        self.views[user_id] = view
        return {"ok": True, "view": {**view, "id": f"V{next(self._ts)}"}}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = dict(args.get("view") or {})
        self.opened_views.append(view)
        return {"ok": True, "view": {**view, "id": f"V{next(self._ts)}"}}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.socket_url}


def _parse(raw: bytes, content_type: str, path: str) -> dict[str, Any]:
    if "json" in content_type and raw:
        parsed: dict[str, Any] = json.loads(raw)
        return parsed
    query = path.split("?", 1)[1] if "?" in path else ""
    fields = parse_qs(raw.decode() + ("&" + query if query else ""))
    args: dict[str, Any] = {key: values[-1] for key, values in fields.items()}
    for key in JSON_FIELDS:
        if isinstance(args.get(key), str):
            args[key] = json.loads(args[key])
    return args


def _listing(found: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """A page of messages as conversations.history and .replies answer (metadata only when
    asked for)."""
    messages, cursor = _page(found, args)
    if args.get("include_all_metadata") not in (True, "true", "1", 1):
        messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
    return {
        "ok": True,
        "messages": messages,
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def _page(items: list[Any], args: dict[str, Any]) -> tuple[list[Any], str]:
    limit = int(args.get("limit") or 100)
    cursor = str(args.get("cursor") or "")
    start = int(base64.b64decode(cursor).decode()) if cursor else 0
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, base64.b64encode(str(start + limit).encode()).decode() if more else ""


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@contextmanager
def running(*people: User) -> Iterator[FakeSlack]:
    """A fake Slack serving on loopback with `people` in it, stopped when done with."""
    server = FakeSlack().start()
    for person in people:
        server.add_user(person)
    try:
        yield server
    finally:
        server.stop()
