"""Two workspaces served by two `reflect run --http` processes, started as an operator starts
them (real OS processes, OAuth settings, one PostgreSQL), behind no balancer: each workspace
installs through one process and its people talk to either. Requests are signed as Slack
signs them; the fake Slack answers over HTTP and lets a token see only its own workspace.

Nobody sees the other workspace's reflections, aggregates (`reflect stats --org`) or
settings, and a payload that names another workspace's person gets nothing of theirs.

SQLite is not tested here with two processes: it is for one bot process (README, "On
PostgreSQL"); several processes need PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bot.commands.stats import command as stats
from bot.engine.conversation import Conversations
from bot.engine.people import Person
from bot.engine.supervisor_suggestion import SuggestionPolicy
from bot.store.organisations import OrganisationSettings
from bot.store.postgres import PostgresStore
from tests.pg_fixtures import PgUrls
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack, User, running
from tests.slack.harness import SlackSide, library, signposts, supervisors
from tests.slack.installs import install, walk
from tests.slack.served import wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
REFLECT = (sys.executable, "-c", "from bot.cli import main; main()")
SIGNING = "isolation-signing-secret-0123456789ab"
SECRET = "isolation-reflect-secret-0123456789abcdef"
TA, TB = "TISOWARD01", "TISOSCHL01"
SAM, PAT, ALEX = "UISOSAM001", "UISOPAT001", "UISOALEX01"
WORDS = {SAM: "heron-lantern seven", PAT: "ember-willow two", ALEX: "quartz-meadow nine"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(tmp_path: Path, fake: FakeSlack, pg: PgUrls) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "REFLECT_DATA_DIR": str(tmp_path / "data"),
        "REFLECT_SECRET_KEY": SECRET,
        "REFLECT_DATABASE_URL": pg.url,
        "REFLECT_KEYS_DATABASE_URL": pg.keys_url,
        "REFLECT_DATABASE_POOL_SIZE": "3",
        "REFLECT_MIN_GROUP_SIZE": "2",
        "SLACK_CLIENT_ID": fake.client_id,
        "SLACK_CLIENT_SECRET": fake.client_secret,
        "SLACK_APP_ID": fake.app_id,
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_API_URL": fake.url,
    }


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    people = (User(SAM, TA), User(PAT, TA), User(ALEX, TB))
    with running(*people) as server:
        yield server


@pytest.fixture
def bots(fake: FakeSlack, tmp_path: Path, pg_urls: PgUrls) -> Iterator[list[str]]:
    """Two `reflect run --http` processes on the test's PostgreSQL; their addresses."""
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    env = _env(tmp_path, fake, pg_urls)
    for _ in range(2):
        port = _free_port()
        process = subprocess.Popen(
            [*REFLECT, "run", "--http", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        started.append((process, f"http://127.0.0.1:{port}"))
    try:
        for process, base in started:
            wait_until_healthy(base, process, within=120)  # a loaded machine
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            process.send_signal(signal.SIGTERM)
        for process, _ in started:
            output = process.communicate(timeout=30)[0].decode()
            assert process.returncode == 0, output


@dataclass
class Someone:
    user: str
    team: str
    side: SlackSide
    fake: FakeSlack

    @property
    def person(self) -> Person:
        return Person(f"{self.team}:{self.user}", org=self.team)

    def says(self, text: str, *, as_team: str | None = None) -> httpx.Response:
        """A DM to the bot; waits until the bot has done something in the DM in answer (a
        post, an update, a deletion), when it can."""
        before = len(self._in_dm())
        event = payloads.message_im(self.user, text)
        response = self.side.envelope(payloads.event_callback(event, team_id=as_team or self.team))
        assert response.status_code == 200
        if as_team is None:
            deadline = time.monotonic() + 60  # a loaded machine
            while len(self._in_dm()) <= before:
                assert time.monotonic() < deadline, "the bot did not answer"
                time.sleep(0.02)
        return response

    def _in_dm(self) -> list[object]:
        dm = self.fake.dm_of(self.user)
        return [call for call in self.fake.calls() if call.args.get("channel") == dm]


def _reflect(someone: Someone, conversations: Conversations) -> None:
    """A whole reflection, the next question read from the shared database."""
    walk(someone.says, lambda: conversations.current(someone.person), words=WORDS[someone.user])


def _count(env: dict[str, str], org: str) -> str:
    result = CliRunner().invoke(stats, ["--format", "json", "--org", org], env=env)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["figures"]
    return next((f["shown"] for f in figures if f["measure"] == "reflections"), "none")


def test_two_processes_serve_two_workspaces_apart(
    fake: FakeSlack,
    bots: list[str],
    tmp_path: Path,
    pg_urls: PgUrls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two = bots
    with httpx.Client(base_url=one, timeout=10) as browser:
        assert install(browser, fake, TA, installer=SAM).status_code == 200
    with httpx.Client(base_url=two, timeout=10) as browser:
        assert install(browser, fake, TB, installer=ALEX).status_code == 200
    to_one, to_two = SlackSide(url=one, secret=SIGNING), SlackSide(url=two, secret=SIGNING)
    store = PostgresStore.open(
        pg_urls.url, keys_url=pg_urls.keys_url, secret=SECRET.encode(), pool_size=2
    )
    try:
        conversations = Conversations(
            library=library(),
            store=store,
            signposts=signposts(),
            suggestions=SuggestionPolicy(supervisors=supervisors()),
        )
        # Each workspace's people talk to the process the other workspace installed through.
        sam, pat = (Someone(user, TA, to_two, fake) for user in (SAM, PAT))
        alex = Someone(ALEX, TB, to_one, fake)
        for someone in (sam, pat, alex):
            _reflect(someone, conversations)
        tokens = {TA: fake.tokens_of(TA)[-1], TB: fake.tokens_of(TB)[-1]}
        for someone in (sam, pat, alex):
            posts = [
                c
                for c in fake.calls("chat.postMessage")
                if c.args["channel"] == fake.dm_of(someone.user)
            ]
            assert posts and {c.token for c in posts} == {tokens[someone.team]}
            assert len(store.reflections(someone.person)) == 1
        assert store.members(TA) == {store.pseudonym(sam.person), store.pseudonym(pat.person)}
        assert store.members(TB) == {store.pseudonym(alex.person)}

        # Aggregates, a week later (`reflect stats` counts complete weeks): each organisation
        # its own (two people are enough to be shown here, one is not).
        next_week = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
        monkeypatch.setattr("bot.commands.stats.utcnow", lambda: next_week)
        env = _env(tmp_path, fake, pg_urls)
        assert _count(env, TA) == "2"
        assert _count(env, TB) == "fewer than 2"

        # Settings: one organisation's are not another's.
        kept = OrganisationSettings(store)
        kept.put(TA, "retention-days", "30", at=dt.datetime.now(dt.UTC))
        assert kept.texts(TB) == {} and kept.texts(TA) == {"retention-days": "30"}

        # A payload from TB naming TA's person: answered with TB's token, which cannot reach
        # Sam, and kept (if at all) as someone else: Sam's reflections and DM are untouched.
        sam_messages = len(fake.messages(fake.dm_of(SAM)))
        sam_home = fake.views.get(SAM)
        calls = len(fake.calls())
        for side in (to_one, to_two):
            impostor = Someone(SAM, TA, side, fake)
            impostor.says("show me my reflections", as_team=TB)
            side.envelope(payloads.event_callback(payloads.home_opened(SAM), team_id=TB))
        deadline = time.monotonic() + 5
        while not any(c.method == "views.publish" for c in fake.calls()[calls:]):
            assert time.monotonic() < deadline, "the Home tab was not asked for"
            time.sleep(0.02)
        time.sleep(0.3)  # anything else the requests would have posted
        later = fake.calls()[calls:]
        assert {c.token for c in later} <= {tokens[TB]}
        assert len(fake.messages(fake.dm_of(SAM))) == sam_messages
        assert fake.views.get(SAM) == sam_home  # TB's token cannot publish to Sam
        assert store.reflections(Person(f"{TB}:{SAM}", org=TB)) == []
        assert len(store.reflections(sam.person)) == 1
        for side in (to_one, to_two):
            side.http.close()
    finally:
        store.close()
