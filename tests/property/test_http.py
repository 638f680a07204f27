"""Property tests at the HTTP endpoint (the real Bolt app behind waitress on loopback, a real
SQLite store, the fake Slack Web API): unsigned and wrongly signed junk gets 401; signed junk
(bytes, bad JSON, bad form bodies, arbitrary payloads and events) and huge bodies never get a
5xx; a DM with any text, sent while a question waits, is taken as the answer or the question
is asked again, never lost."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.conversation import _normalise
from bot.engine.people import Person
from bot.slack.serving.http import MAX_BODY
from tests.property.test_engine import COMMANDS, EXAMPLES, MANY
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import SECRET, Bot, Served, SlackSide, make_bot
from tests.slack.signing import signature

#: Any unicode, lone surrogates included: JSON (events, interactivity payloads) can carry them.
json_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
json_any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=8,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
_users = itertools.count()

bounded = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
many = settings(max_examples=MANY, deadline=None, suppress_health_check=list(HealthCheck))


@dataclass
class Endpoint:
    fake: FakeSlack
    bot: Bot
    slack: SlackSide

    def post(self, body: bytes, *, content_type: str, headers: dict[str, str]) -> httpx.Response:
        sent = {"Content-Type": content_type, **headers} if content_type else headers
        return self.slack.http.post("/slack/events", content=body, headers=sent)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    fake = FakeSlack().start()
    bot = make_bot(fake, tmp_path_factory.mktemp("http"))
    served = Served(bot.app)
    slack = SlackSide(url=served.url)
    yield Endpoint(fake=fake, bot=bot, slack=slack)
    slack.http.close()
    served.close()
    bot.lanes.close()
    bot.store.close()
    fake.stop()


def signed(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    import time

    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": signature(SECRET, body, timestamp=stamp),
    }


# ---------------------------------------------------------------------- junk shaped like Slack
#
# Bolt reads fields (user, team, authorizations, payload...) from a request before it checks
# the signature, and raises on some shapes: those are the known failures at the end of this
# file. The properties here throw anything at every value, in the shapes Slack uses.

KNOWN = ("command", "text", "user_id", "team_id", "channel_id", "trigger_id", "response_url")
form_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300)
words = form_text | st.sampled_from(["", "/reflect", "hard-day", "help", "stop", "U1", "T1"])
ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789|:_-", max_size=40)
event = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["message", "app_home_opened", "app_mention"]) | ids,
        "user": ids,
        "channel": ids,
        "channel_type": st.sampled_from(["im", "channel", "group"]) | ids,
        "text": json_text,
    },
    optional={"subtype": ids, "bot_id": ids, "ts": ids, "tab": ids, "event_ts": ids},
)
envelope = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification"]) | ids, "event": event},
    optional={"team_id": ids, "api_app_id": ids, "event_id": ids, "challenge": json_text},
)
command = st.dictionaries(st.sampled_from(KNOWN), words).map(lambda d: urlencode(d).encode())
action = st.fixed_dictionaries(
    {"action_id": st.sampled_from(["answer:0", "answer_select", "answer_done"]) | ids},
    optional={"block_id": json_text, "value": json_text, "type": ids},
)
interaction = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["block_actions", "view_submission", "shortcut"]) | ids,
        "user": st.fixed_dictionaries({"id": ids}, optional={"team_id": ids}),
        "team": st.fixed_dictionaries({"id": ids}),
    },
    optional={
        "actions": st.lists(action, max_size=2),
        "trigger_id": ids,
        "container": st.fixed_dictionaries({"channel_id": ids, "message_ts": ids}),
        "view": st.fixed_dictionaries({"id": ids, "callback_id": ids}),
    },
).map(lambda payload: urlencode({"payload": json.dumps(payload)}).encode())


def _unread(key: str) -> bool:
    """A key Bolt does not read (BOLT_READS is below, with the known failures)."""
    return key not in BOLT_READS


other_json = st.dictionaries(json_text.filter(lambda key: _unread(key)), json_any, max_size=6).map(
    lambda value: json.dumps(value).encode()
)
BOLT_READS = frozenset(
    {
        "type",
        "user",
        "team",
        "enterprise",
        "authorizations",
        "event",
        "payload",
        "view",
        "channel",
        "container",
        "actions",
        "is_enterprise_install",
        "function_data",
        "bot_access_token",
    }
)
CONTENT_TYPES = (JSON, FORM, "text/plain", "", "multipart/form-data; boundary=x", "a/b; c=\x7f")
#: (body, content type): shaped like Slack's, or anything at all under any type.
requests = st.one_of(
    envelope.map(lambda value: (json.dumps(value).encode(), JSON)),
    command.map(lambda body: (body, FORM)),
    interaction.map(lambda body: (body, FORM)),
    other_json.map(lambda body: (body, JSON)),
    st.tuples(st.binary(max_size=3000), st.sampled_from(CONTENT_TYPES)),  # bytes
    st.tuples(json_any.map(lambda v: json.dumps(v).encode()), st.sampled_from(CONTENT_TYPES)),
    st.tuples(
        json_any.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()), st.just(FORM)
    ),
)


def _unsigned(endpoint: Endpoint, request: tuple[bytes, str], headers: dict[str, str]) -> None:
    body, content_type = request
    response = endpoint.post(body, content_type=content_type, headers=headers)
    if content_type in (JSON, FORM, "text/plain", ""):
        assert response.status_code == 401
    else:  # waitress itself may refuse a malformed header first
        assert response.status_code in (400, 401)


#: What an HTTP client can put in a header value (printable ASCII, no spaces at the ends).
HEADER_TEXT = st.characters(min_codepoint=33, max_codepoint=126)
forged = st.one_of(
    st.just({}),
    st.builds(
        lambda stamp, sig: {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sig},
        st.integers(min_value=0, max_value=2**40).map(str) | st.text(HEADER_TEXT, max_size=12),
        st.text(alphabet="v0=abcdef0123456789", max_size=70) | st.text(HEADER_TEXT, max_size=70),
    ),
)
unsigned_args = {"request": requests, "headers": forged}
test_unsigned_or_forged_requests_get_401 = bounded(given(**unsigned_args)(_unsigned))
test_unsigned_requests_many = pytest.mark.bench(many(given(**unsigned_args)(_unsigned)))


def test_a_stale_signature_gets_401(endpoint: Endpoint) -> None:
    body = json.dumps(payloads.event_callback(payloads.message_im("U1", "hi"))).encode()
    response = endpoint.post(body, content_type=JSON, headers=signed(body, timestamp=1))
    assert response.status_code == 401


def _signed_junk(endpoint: Endpoint, request: tuple[bytes, str]) -> None:
    body, content_type = request
    response = endpoint.post(body, content_type=content_type, headers=signed(body))
    assert response.status_code < 500


signed_args = {"request": requests}
test_signed_junk_never_gets_a_5xx = bounded(given(**signed_args)(_signed_junk))
test_signed_junk_many = pytest.mark.bench(many(given(**signed_args)(_signed_junk)))


@pytest.mark.parametrize("content_type", [JSON, FORM])
@pytest.mark.parametrize("sign", [True, False])
def test_a_body_over_the_cap_gets_413(endpoint: Endpoint, content_type: str, sign: bool) -> None:
    text = "x" * 3_000_000
    if content_type == JSON:
        body = json.dumps(payloads.event_callback(payloads.message_im("U1", text))).encode()
    else:
        body = payloads.slash_command("U1", text)
    response = endpoint.post(body, content_type=content_type, headers=signed(body) if sign else {})
    assert response.status_code == 413


def test_the_largest_message_slack_sends_fits_under_the_cap(endpoint: Endpoint) -> None:
    """40,000 characters (Slack's limit for a message), each escaped in JSON, gets through."""
    body = json.dumps(payloads.event_callback(payloads.message_im("U1", "é" * 40_000))).encode()
    assert len(body) < MAX_BODY
    response = endpoint.post(body, content_type=JSON, headers=signed(body))
    assert response.status_code == 200


# ---------------------------------------------------------------------- answers over HTTP

answers = json_text.filter(lambda text: text.strip() and _normalise(text) not in COMMANDS)


def kept(text: str) -> str:
    """What can be stored of `text`: lone surrogates become "?"."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _dm_answer(endpoint: Endpoint, text: str) -> None:
    user = f"UH{next(_users)}"
    endpoint.fake.add_user(user, first_name="Sam")
    person = Person(id=f"T1:{user}")
    endpoint.bot.conversations.start(person, "hard-day")
    response = endpoint.slack.event(payloads.message_im(user, text))
    assert response.status_code == 200
    session = endpoint.bot.store.load_session(person)
    assert session is not None
    if "what_happened" in session.answers:
        assert session.answers["what_happened"] == kept(text).strip()
    else:  # asked again, with the reason, in the DM
        endpoint.bot.settle()
        posted = " ".join(
            json.dumps(message.get("blocks")) for message in endpoint.fake.messages(f"D{user}")
        )
        assert "what_happened" in posted


test_a_dm_answer_is_kept_or_asked_again = bounded(given(text=answers)(_dm_answer))
test_dm_answers_many = pytest.mark.bench(many(given(text=answers)(_dm_answer)))


def test_a_dm_with_a_lone_surrogate_is_kept_readable(endpoint: Endpoint) -> None:
    """JSON can carry a lone surrogate (\\ud800), which no UTF-8 store can hold: the answer
    is kept with "?" in its place rather than lost or failing."""
    user = f"UH{next(_users)}"
    endpoint.fake.add_user(user)
    person = Person(id=f"T1:{user}")
    endpoint.bot.conversations.start(person, "hard-day")
    body = json.dumps(payloads.event_callback(payloads.message_im(user, "a \ud800 b"))).encode()
    response = endpoint.post(body, content_type=JSON, headers=signed(body))
    assert response.status_code == 200
    session = endpoint.bot.store.load_session(person)
    assert session is not None
    assert session.answers["what_happened"] == "a ? b"


# ---------------------------------------------------------------------- bodies Bolt cannot read
#
# Bolt reads a request (JSON, form, payload, fields such as user and team) before it checks the
# signature, and raises on some bodies. The endpoint checks the signature on the raw body first
# (unsigned: 401, never parsed), and answers 400 to a signed body Bolt cannot read.

UNREADABLE = [
    pytest.param(b"\x00", JSON, id="not JSON"),
    pytest.param(b"[1]", JSON, id="a JSON list"),
    pytest.param(b"a=\xff", FORM, id="form not UTF-8"),
    pytest.param(b"payload=xx", FORM, id="payload not JSON"),
    pytest.param(
        urlencode({"payload": json.dumps({"type": "block_actions", "user": 1})}).encode(),
        FORM,
        id="payload user not an object",
    ),
    pytest.param(json.dumps({"type": "event_callback", "event": 1}).encode(), JSON, id="event 1"),
]


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE)
def test_an_unsigned_body_bolt_cannot_read_gets_401(
    endpoint: Endpoint, body: bytes, content_type: str
) -> None:
    assert endpoint.post(body, content_type=content_type, headers={}).status_code == 401


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE)
def test_a_signed_body_bolt_cannot_read_gets_a_4xx(
    endpoint: Endpoint, body: bytes, content_type: str
) -> None:
    response = endpoint.post(body, content_type=content_type, headers=signed(body))
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("stamp", ["", "soon", "1.5", "-1"])
def test_a_malformed_timestamp_gets_401(endpoint: Endpoint, stamp: str) -> None:
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=00"}
    response = endpoint.post(b"{}", content_type=JSON, headers=headers)
    assert response.status_code == 401


# ---------------------------------------------------------------------- arbitrary headers
#
# Straight onto the socket, so that nothing an HTTP client would refuse to send is left out:
# any header names and values, duplicated Slack headers, huge or garbage timestamps and
# lengths. Whatever arrives, the answer is a 4xx (501 for a transfer coding nobody knows,
# as HTTP says), never a 500, and the connection is only closed without an answer when the
# client stopped sending before the end of the body it announced.

TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_!#$%&'*+.^`|~",
    min_size=1,
    max_size=30,
)
SLACK_HEADERS = st.sampled_from(
    [
        "X-Slack-Request-Timestamp",
        "X-Slack-Signature",
        "Content-Type",
        "Content-Length",
        "Transfer-Encoding",
        "X-Slack-Retry-Num",
        "Expect",
        "Host",
    ]
)
header_value = st.one_of(
    st.binary(max_size=200).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
    st.integers().map(lambda n: str(n).encode()),
    st.text("0123456789", min_size=1, max_size=6000).map(str.encode),
    st.sampled_from([b"v0=" + b"0" * 64, b"chunked", b"100-continue", b"", b" ", b"1e9"]),
)
headers_any = st.lists(
    st.tuples(TOKEN.map(str.encode) | SLACK_HEADERS.map(str.encode), header_value), max_size=8
)


def raw_request(url: str, request: bytes) -> bytes:
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def _arbitrary_headers(endpoint: Endpoint, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    lines = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    if not any(name.lower() in (b"content-length", b"transfer-encoding") for name, _ in headers):
        lines += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    request = b"POST /slack/events HTTP/1.1\r\nHost: localhost\r\n" + lines + b"\r\n" + body
    response = raw_request(endpoint.slack.http.base_url.__str__().rstrip("/"), request)
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"  # to `Expect: 100-continue`: not an answer
    response = response.removeprefix(interim)
    if not response:  # the client stopped before the body it announced: nothing to answer
        assert _announces_more(headers, body)
        return
    assert response.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), response[:80]
    status = int(response[9:12])
    if status == 501:  # a transfer coding no server is bound to know: HTTP's own answer
        assert any(name.lower() == b"transfer-encoding" for name, _ in headers)
        return
    assert 400 <= status < 500, response[:200]


def _announces_more(headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
    for name, value in headers:
        if name.lower() == b"transfer-encoding":
            return True
        if name.lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip()) > len(body)
    return False


headers_args = {
    "headers": headers_any,
    "body": st.binary(max_size=500) | requests.map(lambda r: r[0]),
}
test_arbitrary_headers_never_get_a_5xx = bounded(given(**headers_args)(_arbitrary_headers))
test_arbitrary_headers_many = pytest.mark.bench(many(given(**headers_args)(_arbitrary_headers)))


@pytest.mark.parametrize(
    "stamp",
    ["9" * 5000, "1" * 13, "١٢٣", "+1700000000", " 1700000000", "0x10", "1_700_000_000", "9" * 40],
)
def test_a_huge_or_garbage_timestamp_gets_401(endpoint: Endpoint, stamp: str) -> None:
    body = b"{}"
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64}
    request = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
        + b"Content-Length: 2\r\n\r\n"
        + body
    )
    response = raw_request(str(endpoint.slack.http.base_url).rstrip("/"), request)
    assert response.startswith(b"HTTP/1.1 401"), response[:80]


def test_a_huge_signature_gets_401(endpoint: Endpoint) -> None:
    body = b"{}"
    headers = signed(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 9000
    assert endpoint.post(body, content_type=JSON, headers=headers).status_code == 401
