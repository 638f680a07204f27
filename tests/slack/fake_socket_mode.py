"""A local Socket Mode server: the websocket end of Slack's Socket Mode, for tests.

Point FakeSlack.socket_url at `url` so apps.connections.open hands it to the app. Then:

    ack = socket.send("events_api", payloads.event_callback(...), retry_attempt=0)
    ack = socket.send("slash_commands", {...form fields...})
    ack = socket.send("interactive", {...block_actions payload...})

`send` wraps the payload in an envelope ({"envelope_id", "type", "accepts_response_payload",
"retry_attempt", "retry_reason", "payload"}) and waits for the app's ack
({"envelope_id"[, "payload"]}), which it returns. The server says `hello` on connect and can
ask the app to reconnect with `disconnect()`.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self._server: Server | None = None
        self._connections: list[ServerConnection] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self.received: list[dict[str, Any]] = []
        #: How many times the app has connected (a reconnect counts again).
        self.connects = 0

    def start(self) -> FakeSocketMode:
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None, close_timeout=0.1)
        self._port = self._server.socket.getsockname()[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/link/?ticket=test"

    def wait_connected(self, *, times: int = 1, timeout: float = 5.0) -> None:
        """Wait until the app has connected `times` times in all, and is connected."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self.connects >= times and bool(self._connections), timeout=timeout
            ):
                raise AssertionError("the app did not connect")

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool = False,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
            "payload": payload,
        }
        with self._changed:
            connection = self._connections[-1]
        connection.send(json.dumps(envelope))
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise AssertionError(f"no ack for {kind}")
            return self._acks[envelope_id]

    def disconnect(self, *, reason: str = "refresh_requested") -> None:
        with self._changed:
            connection = self._connections[-1]
        connection.send(json.dumps({"type": "disconnect", "reason": reason}))
        connection.close()  # as Slack does, shortly after saying so

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}))
        with self._changed:
            self._connections.append(connection)
            self.connects += 1
            self._changed.notify_all()
        try:
            for raw in connection:
                message = json.loads(raw)
                with self._changed:
                    self.received.append(message)
                    if "envelope_id" in message:
                        self._acks[message["envelope_id"]] = message
                    self._changed.notify_all()
        except ConnectionClosed:
            pass  # the app went away (closed, or reconnecting)
        finally:
            with self._changed:
                if connection in self._connections:
                    self._connections.remove(connection)
