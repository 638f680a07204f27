"""Serving the Events API, slash commands and interactivity over HTTP, through waitress, with
hard limits on what a stranger can make the bot hold.

POST /slack/events: the body may be at most `MAX_BODY` bytes (Slack's payloads are a few kB; a
40,000-character message with its blocks stays well under it). A larger Content-Length gets 413
before a byte of the body is read, and a chunked body is cut off with 413 as soon as it grows
past the cap. Then the signature is checked on the raw body (a missing, malformed, wrong or
stale signature or timestamp: 401, and the body is neither parsed nor logged); then Bolt
handles it (a body it cannot read: 400). GET /healthz answers 200 when the app is ready (`reflect
run` checks that the databases answer), else 503.
The public pages (install, privacy notice, support: bot.slack.pages) answer GET and HEAD.
Installed over OAuth, GET /slack/install and /slack/oauth_redirect are Bolt's OAuth flow.

Why waitress, with two additions: waitress reads requests asynchronously on one thread, so a
slow client costs a socket, never a worker thread; it refuses oversized bodies from
Content-Length and while dechunking, caps the header block, and hands the app only complete
requests. What it lacks:
- A deadline on the whole request. Its `channel_timeout` counts inactivity, which a client
  sending a header line every few seconds never reaches. Here a request must arrive complete
  (headers and body) within `request_timeout` seconds of its first byte, or the connection is
  closed.
- Room for everyone when connections run out. At its connection limit waitress stops
  accepting, so slow clients can starve `/healthz`. Here the listener keeps accepting, and once
  more than `connection_limit` connections are open the oldest ones that are not being served
  (idle, or still sending) are closed to make room: a quick request always gets in.
Both live in `_BoundedServer` below, on waitress's own maintenance and accept hooks.

Shutdown is through `HttpServer.stop()` (from any thread): the event loop, which `run()` drives
a step at a time, sees the request, stops accepting, lets requests in hand finish (up to
`grace` seconds), then closes every socket from its own thread, so no socket is closed under a
running `select()`.

In production, put a reverse proxy (Caddy or nginx, see the README) in front for TLS: it also
buffers requests, so only complete ones reach the bot. The listener binds 127.0.0.1 unless
told otherwise (`reflect run --http --host`).
"""

from __future__ import annotations

import contextvars
import hmac
import io
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer

from bot.slack.pages.render import HEADERS as PAGE_HEADERS

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
#: Requests signed longer ago than this are refused (replays), as Slack recommends.
MAX_AGE = 300
#: The largest body accepted. Slack's payloads are a few kB; a view submission or a message
#: action carrying a whole 50-block message stays far below this.
MAX_BODY = 1024 * 1024
#: The largest header block accepted (Slack sends well under 2 kB).
MAX_HEADERS = 16 * 1024
#: A signature header is "v0=" and 64 hex digits; a timestamp is at most this many digits.
MAX_SIGNATURE = 80
MAX_STAMP_DIGITS = 12
#: Seconds a request may take to arrive whole, from its first byte.
REQUEST_TIMEOUT = 10.0
#: Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT = 30
#: Connections open at once before the oldest idle or unfinished ones are closed.
CONNECTION_LIMIT = 256
DEFAULT_HOST = "127.0.0.1"
#: Seconds between warnings that connections were closed to make room.
EVICTION_NOTICE_EVERY = 60.0


def wsgi_app(
    *,
    app: App,
    signing_secret: str | None,
    ready: Callable[[], bool] = lambda: True,
    pages: Mapping[str, str] | None = None,
) -> WSGIApplication:
    """`pages`: the public pages (bot.slack.pages), HTML by path, answered to GET and HEAD."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    secret = signing_secret.encode() if signing_secret else None
    public = {path: page.encode() for path, page in (pages or {}).items()}
    flow = app.oauth_flow  # installing over OAuth: Bolt's own install and redirect pages
    oauth_paths = {flow.install_path, flow.redirect_uri_path} if flow is not None else set()

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy = ready()
            status = "200 OK" if healthy else "503 Service Unavailable"
            return _plain(start_response, status, "ok" if healthy else "unavailable")
        if path in oauth_paths and method in ("GET", "HEAD"):
            return contextvars.Context().run(slack, environ, start_response)
        if path in public and method in ("GET", "HEAD"):
            start_response("200 OK", [*PAGE_HEADERS, ("Content-Length", str(len(public[path])))])
            return [b""] if method == "HEAD" else [public[path]]
        if path != EVENTS_PATH or method != "POST":
            return _plain(start_response, "404 Not Found", "not found")
        try:
            verdict = _signed(environ, secret)
        except _TooLarge:
            return _plain(start_response, "413 Request Entity Too Large", "too large")
        except Exception as error:  # a stranger's bytes never make a 500
            log.info("request refused before its signature was checked: %s", type(error).__name__)
            return _plain(start_response, "400 Bad Request", "bad request")
        if not verdict:
            return _plain(start_response, "401 Unauthorized", "invalid request")
        try:
            # A context of its own: what one request sets (the installation it speaks for)
            # never leaks into the next one served on this thread.
            return contextvars.Context().run(slack, environ, start_response)
        except Exception as error:  # a body Bolt cannot read (not UTF-8, not JSON...)
            log.info("unreadable request refused: %s", type(error).__name__)
            return _plain(start_response, "400 Bad Request", "bad request")

    return application


class _TooLarge(Exception):
    pass


def _signed(environ: WSGIEnvironment, secret: bytes | None) -> bool:
    """Whether the request is signed by Slack (when we know the secret), leaving the body
    readable again for Bolt. Slack signs the raw bytes: v0=HMAC-SHA256("v0:{ts}:{body}")."""
    stamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= MAX_STAMP_DIGITS):
        return False
    signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
    if len(signature) > MAX_SIGNATURE or not signature.isascii():
        return False
    if secret is None:
        return True  # Bolt checks (Socket Mode never comes here)
    if abs(time.time() - int(stamp)) > MAX_AGE:
        return False
    body = _body(environ)
    expected = "v0=" + hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, "sha256").hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


def _body(environ: WSGIEnvironment) -> bytes:
    """The request body (at most MAX_BODY bytes), put back for Bolt to read."""
    raw = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not raw.isdigit() or len(raw) > 12:
        raise ValueError("unreadable Content-Length")
    length = int(raw)
    if length > MAX_BODY:  # waitress refuses these first; this guards any other server
        raise _TooLarge
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return bytes(body)


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [f"{text}\n".encode()]


class _Parser(HTTPRequestParser):
    """waitress's parser, except that a request with no body to come does not wait for one:
    to `Expect: 100-continue` with no body (Content-Length: 0), waitress would send the interim
    100 and then wait for a body that never comes, answering nothing; nor does a request whose
    headers it refuses."""

    def parse_header(self, header_plus: bytes) -> None:
        try:
            super().parse_header(header_plus)
        except Exception:
            # A header it refuses (such as an empty Content-Length) is answered 400 at once;
            # no interim 100 first, which would leave the client waiting.
            self.expect_continue = False
            raise
        if self.expect_continue and not self.chunked and not self.content_length:
            self.expect_continue = False


class _Channel(HTTPChannel):
    """A connection that remembers when the request it is receiving began."""

    parser_class = _Parser
    receiving_since: float | None = None

    def received(self, data: bytes) -> bool:
        if data and self.request is None and self.receiving_since is None:
            self.receiving_since = time.monotonic()
        result = bool(super().received(data))
        if self.request is None:
            self.receiving_since = None  # nothing half-received: the request went to a thread
        return result


class _BoundedServer(TcpWSGIServer):
    """waitress's server with a whole-request deadline and room for new connections."""

    channel_class = _Channel

    def __init__(self, *args: Any, request_timeout: float, soft_limit: int, **kw: Any) -> None:
        self.request_timeout = request_timeout
        self.soft_limit = soft_limit
        self.evicted = 0
        self.last_eviction_notice = -EVICTION_NOTICE_EVERY
        super().__init__(*args, **kw)

    def _channels(self) -> list[Any]:
        channels: dict[int, Any] = cast(Any, self).active_channels
        return list(channels.values())

    def maintenance(self, now: int) -> None:
        super().maintenance(now)  # idle keep-alive connections
        cutoff = time.monotonic() - self.request_timeout
        for channel in self._channels():
            since = getattr(channel, "receiving_since", None)
            if since is not None and since < cutoff and not channel.requests:
                channel.will_close = True

    def handle_accept(self) -> None:
        super().handle_accept()
        channels = self._channels()
        waiting = [
            channel for channel in channels if not channel.requests and not channel.will_close
        ]
        excess = len(channels) - self.soft_limit
        if excess <= 0:
            return
        waiting.sort(key=lambda channel: channel.last_activity)
        for channel in waiting[:excess]:
            channel.will_close = True
        self.evicted += min(excess, len(waiting))
        now = time.monotonic()
        if now - self.last_eviction_notice >= EVICTION_NOTICE_EVERY:  # one line a minute at most
            log.warning(
                "too many connections: closed %d idle or unfinished ones to make room",
                self.evicted,
            )
            self.evicted, self.last_eviction_notice = 0, now


class HttpServer:
    """The app behind waitress. `run()` serves until `stop()` (from any thread)."""

    def __init__(
        self,
        *,
        app: App,
        host: str = DEFAULT_HOST,
        port: int,
        signing_secret: str | None = None,
        threads: int = 8,
        ready: Callable[[], bool] = lambda: True,
        request_timeout: float = REQUEST_TIMEOUT,
        idle_timeout: int = IDLE_TIMEOUT,
        connection_limit: int = CONNECTION_LIMIT,
        grace: float = 5.0,
        pages: Mapping[str, str] | None = None,
    ) -> None:
        """`signing_secret` lets bad signatures be refused before Bolt reads the body; without
        it Bolt checks (with the secret the app was built with). `pages`: the public pages."""
        application = wsgi_app(app=app, signing_secret=signing_secret, ready=ready, pages=pages)
        self._map: dict[int, Any] = {}
        self._server: Any = _BoundedServer(
            application,
            map=self._map,
            request_timeout=request_timeout,
            soft_limit=connection_limit,
            host=host,
            port=port,
            threads=threads,
            ident="reflect",
            max_request_body_size=MAX_BODY,
            max_request_header_size=MAX_HEADERS,
            channel_timeout=idle_timeout,
            cleanup_interval=1,
            # waitress stops accepting only past this: below it, the oldest idle or unfinished
            # connections are closed instead (see _BoundedServer.handle_accept).
            connection_limit=connection_limit * 2 + 16,
            expose_tracebacks=False,
        )
        self._grace = grace
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._closing = threading.Lock()  # the trigger is never pulled once it is closed

    @property
    def host(self) -> str:
        """The address listened on."""
        return str(self._server.effective_host)

    @property
    def port(self) -> int:
        """The port listened on (useful after asking for port 0)."""
        return int(self._server.effective_port)

    def run(self) -> None:
        """Serve until `stop()`; every socket is closed by the time this returns."""
        loop_timeout = 0.5
        try:
            while not self._stopping.is_set():
                try:
                    wasyncore.loop(timeout=loop_timeout, map=self._map, count=1)
                except OSError as error:  # a connection's socket went away under select()
                    log.warning("the HTTP loop recovered from %s", type(error).__name__)
                    self._drop_closed()
            self._finish_in_hand(loop_timeout=0.05)
        finally:
            with self._closing:
                self._stopped.set()
                wasyncore.close_all(self._map)
            self._server.task_dispatcher.shutdown(timeout=self._grace)

    def _drop_closed(self) -> None:
        for fd, dispatcher in list(self._map.items()):
            sock = getattr(dispatcher, "socket", None)
            if sock is None or sock.fileno() < 0:
                self._map.pop(fd, None)

    def _finish_in_hand(self, *, loop_timeout: float) -> None:
        """Stop accepting, then keep the loop turning until requests in hand are answered."""
        self._server.accepting = False
        self._server.del_channel()
        self._server.socket.close()
        deadline = time.monotonic() + self._grace
        while time.monotonic() < deadline and any(
            getattr(channel, "requests", None) or getattr(channel, "total_outbufs_len", 0)
            for channel in list(self._map.values())
        ):
            wasyncore.loop(timeout=loop_timeout, map=self._map, count=1)

    def stop(self, *, wait: float | None = None) -> None:
        """Ask `run()` to end (from any thread); with `wait`, wait that long for it."""
        self._stopping.set()
        with self._closing:
            if not self._stopped.is_set():
                self._server.pull_trigger()  # wake the loop from select()
        if wait is not None:
            self._stopped.wait(wait)
