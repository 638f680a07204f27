"""The HTTP server's limits, from a stranger's side of the socket: oversized bodies refused
before they are read, slow clients cut off, /healthz answered whatever else is connected, and
a shutdown that closes every socket from the server's own thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_bolt import App

from bot.slack.serving.http import DEFAULT_HOST, MAX_BODY, HttpServer

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def bare_app() -> App:
    return App(
        token="xoxb-test",
        signing_secret="s" * 32,
        token_verification_enabled=False,
        request_verification_enabled=False,
    )


class Running:
    def __init__(self, app: App, **limits: Any) -> None:
        self.server = HttpServer(
            app=app, host="127.0.0.1", port=0, signing_secret="s" * 32, threads=2, **limits
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.server.port)

    def healthz(self, *, timeout: float = 5.0) -> int:
        with httpx.Client(timeout=timeout) as client:
            return client.get(f"http://127.0.0.1:{self.server.port}/healthz").status_code

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the server did not stop"


@pytest.fixture
def running(bare_app: App) -> Iterator[Running]:
    served = Running(bare_app, request_timeout=1.5, connection_limit=12)
    yield served
    served.stop()


def _status(sock: socket.socket) -> bytes:
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.split(b"\r\n", 1)[0]


def test_a_declared_length_over_the_cap_gets_413_before_the_body_is_sent(
    running: Running,
) -> None:
    with socket.create_connection(running.address, timeout=5) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n"
        )
        assert _status(sock) == b"HTTP/1.1 413 Request Entity Too Large"


def test_a_chunked_body_is_cut_off_at_the_cap(running: Running) -> None:
    chunk = b"x" * 65536
    with socket.create_connection(running.address, timeout=5) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        try:
            while sent <= 4 * MAX_BODY:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
        except OSError:  # the server answered and closed while we were still sending
            pass
        assert _status(sock) == b"HTTP/1.1 413 Request Entity Too Large"


def test_expect_continue_with_no_body_is_answered(running: Running) -> None:
    """`Expect: 100-continue` with Content-Length: 0: no body is coming, so the final answer
    comes at once (waitress alone sends the interim 100 and then waits for ever)."""
    with socket.create_connection(running.address, timeout=5) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
        status = _status(sock)
        assert status.startswith(b"HTTP/1.1 ") and b" 100 " not in status, status


def test_expect_continue_with_a_refused_header_is_answered(running: Running) -> None:
    """`Expect: 100-continue` with an empty Content-Length: the header is refused with a 400
    at once, not an interim 100 followed by silence."""
    with socket.create_connection(running.address, timeout=5) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        status = _status(sock)
        assert status.startswith(b"HTTP/1.1 400"), status


def test_a_request_that_trickles_in_is_cut_off(running: Running) -> None:
    """One header line every 0.3 s never looks idle; the whole request has 1.5 s."""
    with socket.create_connection(running.address, timeout=10) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        began = time.monotonic()
        closed = False
        while time.monotonic() - began < 8:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed = True
                break
            sock.settimeout(0.3)
            try:
                if sock.recv(4096) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed, "the slow request was never cut off"


def test_slow_clients_never_starve_healthz(running: Running) -> None:
    """Three times the connection limit, each sending a header line now and then: /healthz
    still gets in (the oldest unfinished connections make way)."""
    slow: list[socket.socket] = []
    try:
        for _ in range(36):
            sock = socket.create_connection(running.address, timeout=5)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
            slow.append(sock)
        for _ in range(5):
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")
            assert running.healthz(timeout=5) == 200
    finally:
        for sock in slow:
            sock.close()


def test_the_default_host_is_loopback(bare_app: App) -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    server = HttpServer(app=bare_app, port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(timeout=5) as client:
            assert client.get(f"http://127.0.0.1:{server.port}/healthz").status_code == 200
    finally:
        server.stop(wait=10)
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_stopping_closes_every_socket_cleanly_however_often(bare_app: App) -> None:
    """Start and stop again and again, with a connection open and a request half sent: every
    stop ends `run()` with no error from a socket closed under the loop."""
    for _ in range(15):
        served = Running(bare_app)
        with socket.create_connection(served.address, timeout=5) as sock:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
            assert served.healthz() == 200
            served.stop()
            sock.settimeout(5)
            assert sock.recv(4096) == b""  # closed by the server


def test_stop_lets_a_request_in_hand_finish(bare_app: App) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_ready() -> bool:
        entered.set()
        release.wait(5)
        return True

    server = HttpServer(app=bare_app, port=0, ready=slow_ready)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    answer: list[int] = []

    def ask() -> None:
        with httpx.Client(timeout=10) as client:
            answer.append(client.get(f"http://127.0.0.1:{server.port}/healthz").status_code)

    asker = threading.Thread(target=ask)
    asker.start()
    assert entered.wait(5)
    server.stop()
    release.set()
    asker.join(10)
    thread.join(10)
    assert answer == [200]
    assert not thread.is_alive()
