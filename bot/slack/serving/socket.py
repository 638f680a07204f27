"""Socket Mode: Slack's events over a websocket we open, for networks with no public URL."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

log = logging.getLogger(__name__)


class SocketModeRunner:
    def __init__(self, *, app: App, app_token: str, client: WebClient) -> None:
        self.handler = SocketModeHandler(app=app, app_token=app_token, web_client=client)

    def connect(self) -> None:
        """Open the connection (apps.connections.open, then the websocket); returns at once.
        Slack's `disconnect` messages and dropped connections are followed by a reconnect."""
        self.handler.connect()

    def close(self) -> None:
        client = self.handler.client
        client.auto_reconnect_enabled = False
        client.closed = True
        client.message_queue.put(None)  # wakes its message loop now, not at its 1 s poll
        try:
            self.handler.close()
        except AttributeError:
            # slack_sdk's built-in client can lose its socket to its own reader thread while
            # closing; a second pass finds it gone and finishes shutting down.
            log.info("Socket Mode connection was already closing")
            self.handler.close()
