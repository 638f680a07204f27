"""A bare Bolt app whose listeners only ack, behind the same waitress server and WSGI adapter
as `reflect run --http` (bot.slack.serving.http.HttpServer): the baseline for the ack latency.

    SLACK_SIGNING_SECRET=... SLACK_API_URL=... python -m bench.bare_app --port PORT
"""

from __future__ import annotations

import argparse
import inspect
import re
import signal
import threading

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot import settings as settings_module
from bot.slack.serving.http import HttpServer


def build() -> App:
    settings = settings_module.load()
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=True,
    )

    @app.event("message")
    def on_message(ack: Ack) -> None:
        ack()

    @app.event("app_home_opened")
    def on_home(ack: Ack) -> None:
        ack()

    @app.command("/reflect")
    def on_command(ack: Ack) -> None:
        ack()

    @app.action(re.compile(".*"))
    def on_action(ack: Ack) -> None:
        ack()

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    extra: dict[str, object] = {}
    if "signing_secret" in inspect.signature(HttpServer).parameters:
        # as `reflect run --http` does: bad signatures refused before Bolt reads the body
        extra["signing_secret"] = settings_module.load().slack_signing_secret
    server = HttpServer(app=build(), host="127.0.0.1", port=args.port, **extra)  # type: ignore[arg-type]
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)

    def stop_when_told() -> None:
        stop.wait()
        server.stop()

    threading.Thread(target=stop_when_told, daemon=True).start()
    server.run()


if __name__ == "__main__":
    main()
