"""Installing into many workspaces over OAuth, end to end: the real Bolt app behind the real
HTTP server, real signatures, a real SQLite file, the fake Slack's oauth.v2.access with
expiring tokens that Bolt rotates.

Two workspaces install; people in both reflect; one uninstalls and its data is erased (the
database, its keys file and an earlier backup checked byte by byte); it reinstalls and starts
clean; the other keeps everything throughout.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.engine.people import Person
from bot.engine.replies import Say
from bot.runtime import installed_over
from bot.settings import Settings
from bot.slack.delivery.gateway import speaking_for, web_client
from bot.slack.delivery.outbox import OutboxSender
from bot.slack.respond import say
from bot.slack.serving.logs import LOGGER_NAME
from bot.slack.views.notices import AGREEMENT
from bot.store.organisations import OrganisationSettings
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.weekly.service import workspace_slack
from tests.cli_env import SECRET, cli_env
from tests.pg_fixtures import PgUrls
from tests.slack.fake_slack import FakeSlack, User
from tests.slack.harness import Bot, Served, SlackSide
from tests.slack.installs import Member, install, oauth_bot, reflect_as, uninstalled

#: Two workspaces (a hospital ward, a school), a third that never installs, and their people.
TA, TB, TC = "TWARDS0001", "TSCHOOL001", "TNEVER0001"
UA1, UB1, UC1 = "USAMWARD01", "UALEXSCH01", "UJONEVER01"
#: What each person writes: words that must never be found in clear on disk.
WORDS = {UA1: "heron-lantern-ward seven", UB1: "quartz-meadow-school nine"}


@pytest.fixture
def people() -> tuple[User, ...]:
    return (User(UA1, TA, first_name="Sam"), User(UB1, TB, first_name="Alex"))


@pytest.fixture
def bot(fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    store = SqliteStore.open(tmp_path / "data" / "reflect.db", secret=SECRET.encode())
    with oauth_bot(fake, tmp_path, store=store, erase_after_uninstall_days=7) as made:
        yield made


def reflect(someone: Member) -> None:
    reflect_as(someone, words=WORDS[someone.user_id])


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def with_wal(path: Path) -> bytes:
    """A database file's bytes and its write-ahead log's: everything of it on disk."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def wrapped_org_key(keys_file: Path, store: SqliteStore, org_id: str) -> bytes | None:
    with sqlite3.connect(keys_file) as db:
        row = db.execute(
            "SELECT wrapped FROM org_keys WHERE org = ?", [store.keyring.org(org_id)]
        ).fetchone()
    return bytes(row[0]) if row else None


def test_two_workspaces_install_reflect_one_uninstalls_is_erased_and_reinstalls(
    fake: FakeSlack,
    bot: Bot,
    browser: httpx.Client,
    slack: SlackSide,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    store = bot.store
    data = store.path.parent
    # Install both, with tokens that expire within Bolt's two-hour margin: the first request
    # from each workspace makes Bolt rotate them (oauth.v2.access, grant_type=refresh_token).
    fake.token_lifetime = 3600
    assert install(browser, fake, TA, installer=UA1).status_code == 200
    assert install(browser, fake, TB, installer=UB1).status_code == 200
    fake.token_lifetime = 43200
    first = {team: fake.tokens_of(team)[0] for team in (TA, TB)}

    sam = Member(UA1, TA, slack=slack, fake=fake, bot=bot)
    alex = Member(UB1, TB, slack=slack, fake=fake, bot=bot)
    reflect(sam)
    reflect(alex)

    # Each workspace was spoken to with its own, rotated token, and the old ones were spent.
    refreshes = [c for c in fake.calls("oauth.v2.access") if c.args.get("grant_type")]
    assert len(refreshes) == 2
    for someone in (sam, alex):
        rotated = fake.tokens_of(someone.team_id)[-1]
        assert rotated != first[someone.team_id]
        posts = [c for c in fake.calls("chat.postMessage") if c.args["channel"] == someone.dm]
        assert posts and {c.token for c in posts} == {rotated}
    fake.expire(TA)  # the first token is dead on Slack's side now; carrying on needs none
    assert len(store.reflections(sam.person)) == len(store.reflections(alex.person)) == 1

    # Nothing on disk holds a token or anyone's words in clear.
    backup = tmp_path / "before-uninstall.db"
    store.backup(backup)
    on_disk = files(data) | {"backup": backup.read_bytes()}
    for blob in on_disk.values():
        assert b"xoxe" not in blob and TA.encode() not in blob and UB1.encode() not in blob
        assert not any(words.encode() in blob for words in WORDS.values())
    keys_file = store.keys_path
    tb_key = wrapped_org_key(keys_file, store, TB)
    assert tb_key is not None and tb_key in with_wal(keys_file)

    # TB uninstalls: Slack revokes its tokens and sends app_uninstalled.
    fake.uninstall(TB)
    assert uninstalled(slack, TB).status_code == 200
    bot.settle()
    posted = len(fake.calls("chat.postMessage"))
    alex.says("are you there?")
    assert len(fake.calls("chat.postMessage")) == posted  # nothing more said to TB
    assert store.is_uninstalled(TB) and not store.is_uninstalled(TA)

    # The grace period is a week; the operator shortens it.
    result = CliRunner().invoke(
        cli, ["org", "erase", "--now", TB], env=cli_env(tmp_path, REFLECT_DB=str(store.path))
    )
    assert result.exit_code == 0, result.output

    # TB's organisation key is gone, byte for byte, from the keys file; so are its people's
    # rows; the backup still has their sealed rows, and they no longer open.
    assert wrapped_org_key(keys_file, store, TB) is None
    assert tb_key not in with_wal(keys_file)
    assert store.reflections(alex.person) == []
    with SqliteStore.open(backup, secret=SECRET.encode(), keys_path=keys_file) as old:
        with old.reading() as db:
            kept = db.execute(
                "SELECT count(*) FROM reflections WHERE pseudonym = ?",
                [old.pseudonym(alex.person)],
            ).fetchone()[0]
        assert kept == 1  # the sealed rows are still in the old backup...
        assert old.reflections(alex.person) == []  # ...and unreadable
        assert len(old.reflections(sam.person)) == 1  # TA's still read
    for blob in [*files(data).values(), backup.read_bytes()]:
        assert tb_key not in blob
        assert not any(words.encode() in blob for words in WORDS.values())
    assert len(store.reflections(sam.person)) == 1

    # TB installs again and starts clean: a newcomer's first-use agreement, no history.
    assert install(browser, fake, TB, installer=UB1).status_code == 200
    assert not store.is_uninstalled(TB)
    before = len(alex.messages())
    alex.says("hello again")
    assert len(alex.messages()) > before
    assert store.reflections(alex.person) == []
    assert not store.first_time(alex.person, AGREEMENT)  # shown again just now
    reflect(alex)
    new_key = wrapped_org_key(keys_file, store, TB)
    assert new_key is not None and new_key != tb_key
    assert len(store.reflections(alex.person)) == len(store.reflections(sam.person)) == 1
    # Nothing logged, at DEBUG either, names a workspace, a person, a token or their words.
    ours = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    said = "\n".join(f"{r.name} {r.getMessage()}" for r in ours)  # the bot's, not the test's
    assert ours and "xoxe" not in said and "code-" not in said
    assert not any(secret in said for secret in (TA, TB, UA1, UB1, *WORDS.values()))


def test_a_payload_naming_another_workspace_gets_nothing(
    fake: FakeSlack, bot: Bot, browser: httpx.Client, slack: SlackSide
) -> None:
    assert install(browser, fake, TA, installer=UA1).status_code == 200
    assert install(browser, fake, TB, installer=UB1).status_code == 200
    sam = Member(UA1, TA, slack=slack, fake=fake, bot=bot)
    reflect(sam)
    sam_messages = len(sam.messages())
    sam_home = fake.views.get(UA1)

    # A request that says it comes from TB but names TA's person: it is answered with TB's
    # token, which cannot reach TA's people, and it is someone else in the store.
    impostor = Member(UA1, TB, slack=slack, fake=fake, bot=bot)
    impostor.says("show me my reflections")
    impostor.opens_home()
    assert len(sam.messages()) == sam_messages
    assert bot.store.reflections(impostor.person) == []
    assert fake.views.get(UA1) == sam_home  # TB's token cannot publish to TA's person
    tb_token = fake.tokens_of(TB)[-1]
    assert [c.token for c in fake.calls("views.publish")][-1] == tb_token

    # A workspace that never installed gets nothing at all.
    stranger = Member(UC1, TC, slack=slack, fake=fake, bot=bot)
    fake.add_user(UC1, team_id=TC)
    calls = len(fake.calls())
    assert stranger.says("hello").status_code in (200, 401)
    assert [c.method for c in fake.calls()[calls:]] == []
    assert len(bot.store.reflections(sam.person)) == 1
    assert bot.store.reflections(Person(id=f"{TC}:{UC1}")) == []


def test_the_install_page_refuses_a_redirect_without_its_state(
    fake: FakeSlack, browser: httpx.Client
) -> None:
    code = fake.grant(TA, installer=UA1)
    refused = browser.get("/slack/oauth_redirect", params={"code": code, "state": "made-up"})
    assert refused.status_code in (400, 401)
    assert fake.calls("oauth.v2.access") == []


def test_two_bots_sharing_one_database_serve_both_workspaces_apart(
    fake: FakeSlack, tmp_path: Path
) -> None:
    """As two `reflect run --http` processes behind one load balancer: each opens the database
    itself; an install through one is served by the other; nobody crosses over."""
    path = tmp_path / "shared" / "reflect.db"
    one_store = SqliteStore.open(path, secret=SECRET.encode())
    two_store = SqliteStore.open(path, secret=SECRET.encode())
    with (
        oauth_bot(fake, tmp_path / "one", store=one_store) as one,
        oauth_bot(fake, tmp_path / "two", store=two_store) as two,
    ):
        first, second = Served(one.app), Served(two.app)
        try:
            with httpx.Client(base_url=first.url) as browser:
                assert install(browser, fake, TA, installer=UA1).status_code == 200
            with httpx.Client(base_url=second.url) as browser:
                assert install(browser, fake, TB, installer=UB1).status_code == 200
            to_one, to_two = SlackSide(url=first.url), SlackSide(url=second.url)
            sam = Member(UA1, TA, slack=to_two, fake=fake, bot=two)  # TA's installed via one
            alex = Member(UB1, TB, slack=to_one, fake=fake, bot=one)
            reflect(sam)
            reflect(alex)
            for someone, other in ((sam, alex), (alex, sam)):
                token = fake.tokens_of(someone.team_id)[-1]
                posts = [
                    c for c in fake.calls("chat.postMessage") if c.args["channel"] == someone.dm
                ]
                assert posts and {c.token for c in posts} == {token}
                assert len(one_store.reflections(someone.person)) == 1
                stray = Person(id=f"{other.team_id}:{someone.user_id}", org=other.team_id)
                assert two_store.reflections(stray) == []
            to_one.http.close()
            to_two.http.close()
        finally:
            first.close()
            second.close()


def test_outside_a_request_a_workspace_is_spoken_to_with_its_own_rotated_token(
    fake: FakeSlack, bot: Bot, browser: httpx.Client
) -> None:
    fake.token_lifetime = 3600  # within Bolt's two-hour margin: rotated on first use
    assert install(browser, fake, TA, installer=UA1).status_code == 200
    fake.token_lifetime = 43200
    assert bot.parts is not None
    installed = installed_over(bot.parts.settings, bot.store)
    assert installed is not None
    tokens = installed.tokens
    rotated = tokens.token_for(TA)
    assert rotated == fake.tokens_of(TA)[-1] != fake.tokens_of(TA)[0]
    assert tokens.token_for(TA) == rotated  # kept: no second rotation
    assert tokens.token_for(TB) is None
    with speaking_for(rotated):
        client = web_client(settings=Settings(slack_api_url=fake.url))
        assert client.users_info(user=UA1)["user"]["id"] == UA1
    assert fake.calls("users.info")[-1].token == rotated


def test_on_postgresql_two_workspaces_install_and_one_is_erased(
    fake: FakeSlack, tmp_path: Path, pg_urls: PgUrls
) -> None:
    """The same on PostgreSQL: installations and organisation keys in its two databases."""
    store = PostgresStore.open(
        pg_urls.url, keys_url=pg_urls.keys_url, secret=SECRET.encode(), pool_size=4
    )
    with oauth_bot(fake, tmp_path, store=store) as made:
        served = Served(made.app)
        slack = SlackSide(url=served.url)
        try:
            with httpx.Client(base_url=served.url) as browser:
                assert install(browser, fake, TA, installer=UA1).status_code == 200
                assert install(browser, fake, TB, installer=UB1).status_code == 200
                sam = Member(UA1, TA, slack=slack, fake=fake, bot=made)
                alex = Member(UB1, TB, slack=slack, fake=fake, bot=made)
                reflect(sam)
                reflect(alex)
                fake.uninstall(TB)
                assert uninstalled(slack, TB).status_code == 200
                assert store.is_uninstalled(TB)
                assert store.erase_organisation(TB) == 1
                assert store.reflections(alex.person) == [] and not store.known(alex.person)
                assert len(store.reflections(sam.person)) == 1
                assert install(browser, fake, TB, installer=UB1).status_code == 200
                assert not store.is_uninstalled(TB)
                reflect(alex)
                assert len(store.reflections(alex.person)) == 1
        finally:
            slack.http.close()
            served.close()


def test_a_refused_code_is_logged_without_the_code_or_slacks_answer(
    fake: FakeSlack, browser: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    bolt = logging.getLogger(LOGGER_NAME)  # Bolt's own logger (whatever other tests set up)
    bolt.addHandler(caplog.handler)
    try:
        page = browser.get("/slack/install")
        state = page.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
        refused = browser.get(
            "/slack/oauth_redirect",
            params={"code": "code-never-given-4711", "state": state},
            headers={"Cookie": f"slack-app-oauth-state={state}"},
        )
    finally:
        bolt.removeHandler(caplog.handler)
    assert refused.status_code == 401
    warned = [r for r in caplog.records if "oauth.v2.access" in r.getMessage()]
    assert warned and not any("4711" in r.getMessage() for r in warned)
    assert not any("invalid_code" in r.getMessage() for r in warned)


def test_the_weekly_reminders_and_left_over_replies_speak_with_each_workspaces_token(
    fake: FakeSlack, bot: Bot, browser: httpx.Client
) -> None:
    """Outside a request (the reminders' scheduler, the outbox's sweep after a restart) each
    workspace is spoken to with its own installation's token, as `reflect run` wires it."""
    assert install(browser, fake, TA, installer=UA1).status_code == 200
    assert install(browser, fake, TB, installer=UB1).status_code == 200
    assert bot.parts is not None
    settings = bot.parts.settings
    installed = installed_over(settings, bot.store)
    assert installed is not None
    slack = workspace_slack(settings, token_for=installed.tokens.token_for)
    assert slack(TA).profile(UA1) is not None and slack(TB).profile(UB1) is not None
    used = [call.token for call in fake.calls("users.info")[-2:]]
    assert used == [fake.tokens_of(TA)[-1], fake.tokens_of(TB)[-1]]

    # A reply queued by a request whose process died before posting it: the sweep, with no
    # request around it, posts it with its own workspace's token.
    sam = Person(id=f"{TA}:{UA1}")
    with bot.store.writing():
        say(bot.parts, sam, [Say("hello")], user_id=UA1)  # queued; its lane job never runs
    assert OutboxSender(bot.parts).drain() == 1
    posted = fake.calls("chat.postMessage")[-1]
    assert posted.token == fake.tokens_of(TA)[-1]


def test_an_uninstall_drops_that_organisations_own_settings_at_once(
    fake: FakeSlack, tmp_path: Path
) -> None:
    store = SqliteStore.open(tmp_path / "data" / "reflect.db", secret=SECRET.encode())
    with oauth_bot(fake, tmp_path, store=store, organisations=True) as made:
        served = Served(made.app)
        slack = SlackSide(url=served.url)
        kept = OrganisationSettings(store)
        try:
            with httpx.Client(base_url=served.url) as browser:
                assert install(browser, fake, TA, installer=UA1).status_code == 200
                assert install(browser, fake, TB, installer=UB1).status_code == 200
            for team in (TA, TB):
                kept.put(team, "retention-days", "30", at=dt.datetime.now(dt.UTC))
            fake.uninstall(TB)
            assert uninstalled(slack, TB).status_code == 200
            made.settle()
            assert kept.texts(TB) == {}
            assert kept.texts(TA) == {"retention-days": "30"}
        finally:
            served.close()
