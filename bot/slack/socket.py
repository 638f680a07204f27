"""Socket Mode: Slack's events over a websocket we open, for networks with no public URL."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient


class SocketModeRunner:
    def __init__(self, *, app: App, app_token: str, client: WebClient) -> None:
        self.handler = SocketModeHandler(app=app, app_token=app_token, web_client=client)

    def connect(self) -> None:
        """Open the connection (apps.connections.open, then the websocket); returns at once."""
        self.handler.connect()

    def close(self) -> None:
        self.handler.close()
