"""Serving the Events API, slash commands and interactivity over HTTP, through waitress.

POST /slack/events goes to Bolt (signature verified there: a bad one gets 401); GET /healthz
answers 200 once the app is ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(*, app: App, ready: Callable[[], bool] = lambda: True) -> WSGIApplication:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            healthy = ready()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n" if healthy else b"starting\n"]
        return slack(environ, start_response)

    return application


class HttpServer:
    """The app behind waitress. `run()` serves until `stop()` (from any thread)."""

    def __init__(
        self,
        *,
        app: App,
        host: str,
        port: int,
        threads: int = 8,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self._server: Any = create_server(
            wsgi_app(app=app, ready=ready), host=host, port=port, threads=threads, ident="reflect"
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
