"""`store: never`: the answer is gone from every saved state once the step that needs it is
done. Proved from the files: the session row is read with sqlite3 and decrypted by hand, and
no file holds the words in clear."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.signposts import load_signposts
from bot.store.database import keys_path_for
from bot.store.privacy import Keyring, row_aad, unseal
from bot.store.sqlite import SqliteStore
from tests.conftest import ROOT, Clock
from tests.store.conftest import SECRET

LEADER = Person("T0WARD:U0MANAGER", first_name="Morgan")
NEVER = "QuokkaHarbour they would say I am brittle"
KEPT = "PelicanMeadow the rota, always the rota"


def _flow() -> Flow:
    path = ROOT / "flows" / "leading-yourself.yaml"
    return Flow.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _saved_session_text(db_path: Path) -> str:
    """The saved session, as the files hold it, decrypted with the secret and the keys file."""
    keyring = Keyring(SECRET)
    who = keyring.pseudonym(LEADER.id)
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT state FROM sessions WHERE pseudonym = ?", [who]).fetchone()
    with sqlite3.connect(keys_path_for(db_path)) as keys:
        (wrapped,) = keys.execute(
            "SELECT wrapped FROM data_keys WHERE pseudonym = ?", [who]
        ).fetchone()
    if row is None:
        return ""
    key = keyring.unwrap(wrapped, pseudonym=who)
    return unseal(key, row[0], aad=row_aad("sessions", who, "state")).decode("utf-8")


def _all_bytes(db_path: Path) -> bytes:
    return b"".join(
        path.read_bytes() for path in sorted(db_path.parent.iterdir()) if path.is_file()
    )


def test_a_never_kept_answer_is_in_no_saved_state_once_its_step_is_done(db_path: Path) -> None:
    flow = _flow()
    with SqliteStore.open(db_path, secret=SECRET) as store:
        talk = Conversations(
            library=FlowLibrary([flow]),
            store=store,
            signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
            clock=Clock(),
        )
        talk.start(LEADER, flow.id)
        talk.receive(LEADER, "4")  # energy: plenty, so on to drain
        talk.receive(LEADER, KEPT)  # drain (store: yes)
        talk.receive(LEADER, "1")  # refill: rest, so on to self_view
        assert talk.current(LEADER).step_id == "self_view"  # type: ignore[union-attr]
        # The decryption works: the answer that is kept is in the saved session.
        assert KEPT in _saved_session_text(db_path)
        talk.receive(LEADER, NEVER)  # self_view (store: never), needed by no later step
        assert talk.current(LEADER).step_id == "keep"  # type: ignore[union-attr]
        talk.receive(LEADER, "pause")
        store.backup(db_path.parent / "copy.db")
    # The bot has stopped: nothing is left in memory, only the files speak.
    saved = _saved_session_text(db_path)
    assert KEPT in saved and NEVER not in saved
    everything = _all_bytes(db_path)
    assert NEVER.encode() not in everything and KEPT.encode() not in everything


def test_a_never_kept_answer_stays_while_a_later_step_needs_it() -> None:
    from bot.engine import sessions

    flow = Flow.model_validate(
        {
            "schema_version": 1,
            "id": "needs-it",
            "title": "Needs it",
            "description": "A later prompt quotes a never-kept answer.",
            "area": "self",
            "minutes": 2,
            "meta": {"author": "tests", "draws_on": ["nothing"], "last_reviewed": "2026-11-22"},
            "intro": "Hello.",
            "steps": [
                {"id": "secret", "kind": "text", "prompt": "Tell me.", "store": "never"},
                {"id": "middle", "kind": "text", "prompt": "And then?"},
                {"id": "echo", "kind": "text", "prompt": "You said {{ secret }}. Still true?"},
                {"id": "last", "kind": "text", "prompt": "Last one."},
            ],
            "summary": "{{ middle }}",
        }
    )
    now = Clock()()
    turn = sessions.start(flow, now=now)
    turn = sessions.answer(flow, turn.session, "a private thing", now=now)
    assert turn.session.answers["secret"] == "a private thing"  # "echo" is still to come
    turn = sessions.answer(flow, turn.session, "more", now=now)
    assert "a private thing" in turn.replies[-1].text
    turn = sessions.answer(flow, turn.session, "yes", now=now)  # echo is done
    assert "secret" not in turn.session.answers
