"""Canaries for the privacy tests (tests/store/test_privacy*.py): an identity, a name and text
that must never be found where a store keeps its data, nor in its logs."""

from __future__ import annotations

import pytest

from bot.engine.people import Person
from bot.engine.sessions import Session
from bot.store import Store
from bot.store.errors import UnreadableError
from bot.store.outbox import outbox_of
from bot.store.privacy import Keyring, row_aad, unseal
from tests.store.conftest import NOW, SECRET, reflection

CANARY_TEAM = "E0CANARYENT"
CANARY_USER = "U0CANARY42"
CANARY_NAME = "Zebedee"
CANARY_TEXT = "QuokkaMarmalade"
CANARY_SUMMARY = "PelicanTrombone"
CANARY_EVENT = "Ev0CANARYEVT"
CANARIES = [CANARY_TEAM, CANARY_USER, CANARY_NAME, CANARY_TEXT, CANARY_SUMMARY, CANARY_EVENT]
ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be")


def fill_with_canaries(store: Store) -> Person:
    person = Person(f"{CANARY_TEAM}:{CANARY_USER}", first_name=CANARY_NAME)
    session = Session(
        flow_id="hard-day",
        step_id="weight",
        started_at=NOW,
        answers={"what_happened": f"{CANARY_TEXT} happened"},
        path=("what_happened",),
    )
    store.save_session(person, session)
    store.record(person, "signpost_shown", at=NOW)
    store.finish(
        person,
        reflection(text=f"{CANARY_TEXT} on the ward", summary=f"{CANARY_SUMMARY} {CANARY_NAME}"),
    )
    store.save_session(person, session)  # a second flow in progress, left open
    store.record(person, "nudge_shown", at=NOW, flow_id="hard-day")
    store.claim_event(CANARY_EVENT, at=NOW)
    # A reply waiting in the outbox, as if the process died between the ack and the post.
    outbox_of(store).add(
        person,
        [{"kind": "post", "user": CANARY_USER, "text": f"{CANARY_NAME}: {CANARY_TEXT}?"}],
        now=NOW,
    )
    return person


def assert_no_canaries(content: bytes) -> None:
    for canary in CANARIES:
        for encoding in ENCODINGS:
            assert canary.encode(encoding) not in content, canary


def assert_logs_hold_no_canaries(caplog: pytest.LogCaptureFixture, person: Person) -> None:
    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert caplog.records  # the store does log what it does...
    for canary in [*CANARIES, SECRET.decode(), Keyring(SECRET).pseudonym(person.id)]:
        assert canary not in logged  # ...but never who, what they wrote, or the secret


def assert_no_key_from_the_secret_opens(sealed: bytes, *, reflection_id: str, who: str) -> None:
    """No key derivable from the secret opens a sealed summary: the data key was random."""
    keyring = Keyring(SECRET)
    for key in (keyring._wrapping_key, keyring._service_key, keyring._pseudonym_key):
        with pytest.raises(UnreadableError):
            unseal(key, sealed, aad=row_aad("reflections", reflection_id, who, "summary"))
