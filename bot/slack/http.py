"""Serving the Events API, slash commands and interactivity over HTTP, through waitress.

POST /slack/events goes to Bolt (signature verified there: a bad one gets 401); GET /healthz
answers 200 once the app is ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(*, app: App, ready: Callable[[], bool] = lambda: True) -> WSGIApplication:
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy = ready()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n" if healthy else b"starting\n"]
        return slack(environ, start_response)

    return application


def http_server(*, app: App, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server (not yet running): `.run()` serves, `.close()` stops,
    `.effective_port` is the port it listens on (useful with port 0)."""
    return waitress.create_server(wsgi_app(app=app), host=host, port=port, threads=threads, ident="reflect")
