"""Serving the Events API, slash commands and interactivity over HTTP, through waitress.

POST /slack/events: the signature is checked first, on the raw body (missing, wrong or stale:
401, and the body is neither parsed nor logged); then Bolt handles it (a body it cannot read:
400). GET /healthz answers 200 once the app is ready.
"""

from __future__ import annotations

import hmac
import io
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
#: Requests signed longer ago than this are refused (replays), as Slack recommends.
MAX_AGE = 300


def wsgi_app(
    *, app: App, signing_secret: str | None, ready: Callable[[], bool] = lambda: True
) -> WSGIApplication:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    secret = signing_secret.encode() if signing_secret else None

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy = ready()
            status = "200 OK" if healthy else "503 Service Unavailable"
            return _plain(start_response, status, "ok" if healthy else "starting")
        if path == EVENTS_PATH and method == "POST" and not _signed(environ, secret):
            return _plain(start_response, "401 Unauthorized", "invalid request")
        try:
            return slack(environ, start_response)
        except Exception as error:  # a body Bolt cannot read (not UTF-8, not JSON...)
            log.info("unreadable request refused: %s", type(error).__name__)
            return _plain(start_response, "400 Bad Request", "bad request")

    return application


def _signed(environ: WSGIEnvironment, secret: bytes | None) -> bool:
    """Whether the request is signed by Slack (when we know the secret), leaving the body
    readable again for Bolt. Slack signs the raw bytes: v0=HMAC-SHA256("v0:{ts}:{body}")."""
    stamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
    if not (stamp.isascii() and stamp.isdigit()):
        return False
    if secret is None:
        return True  # Bolt checks (Socket Mode never comes here)
    if abs(time.time() - int(stamp)) > MAX_AGE:
        return False
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
    expected = "v0=" + hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, "sha256").hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode(errors="replace"))


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [f"{text}\n".encode()]


class HttpServer:
    """The app behind waitress. `run()` serves until `stop()` (from any thread)."""

    def __init__(
        self,
        *,
        app: App,
        host: str,
        port: int,
        signing_secret: str | None = None,
        threads: int = 8,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        """`signing_secret` lets bad signatures be refused before Bolt reads the body; without
        it Bolt checks (with the secret the app was built with)."""
        application = wsgi_app(app=app, signing_secret=signing_secret, ready=ready)
        self._server: Any = create_server(
            application, host=host, port=port, threads=threads, ident="reflect"
        )

    @property
    def port(self) -> int:
        """The port listened on (useful after asking for port 0)."""
        return int(self._server.effective_port)

    def run(self) -> None:
        self._server.run()

    def stop(self) -> None:
        """Close every connection from inside the server's own loop, which then ends."""
        server = self._server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        server.task_dispatcher.shutdown(timeout=5)
