"""The outbox's contract (bot.store.outbox), on SQLite and on PostgreSQL: written with the step,
claimed in order per person with a lease, sealed, deleted once delivered, erased by forget."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.engine.people import Person
from bot.store import Store
from bot.store.outbox import LEASE, Outbox, outbox_of
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.store.conftest import NOW, SECRET, open_pg

SAM = Person("T1:U1", first_name="Sam")
ALEX = Person("T1:U2")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened: SqliteStore | PostgresStore
    if request.param == "postgres":
        opened = open_pg(request.getfixturevalue("pg_urls"), pool_size=6)
    else:
        opened = SqliteStore.open(tmp_path / "reflect.db", secret=SECRET)
    yield opened
    opened.close()


@pytest.fixture
def outbox(store: Store) -> Outbox:
    return outbox_of(store)


def post(n: int) -> dict[str, object]:
    return {"kind": "post", "user": "U1", "text": f"reply {n}"}


def test_rows_come_back_in_order_per_person_and_go_once_delivered(outbox: Outbox) -> None:
    keys = outbox.add(SAM, [post(1), post(2)], now=NOW)
    outbox.add(SAM, [post(3)], now=NOW)
    assert len(set(keys)) == 2 and outbox.pending(SAM) == 3
    seen = []
    while (entry := outbox.claim(now=NOW, person=SAM)) is not None:
        assert entry.attempts == 1 and not entry.in_doubt
        seen.append(entry.payload["text"])
        assert outbox.delivered(entry)
    assert seen == ["reply 1", "reply 2", "reply 3"]
    assert outbox.pending() == 0


def test_a_held_row_holds_back_the_persons_later_rows_but_not_other_people(
    outbox: Outbox,
) -> None:
    outbox.add(SAM, [post(1), post(2)], now=NOW)
    outbox.add(ALEX, [post(9)], now=NOW)
    first = outbox.claim(now=NOW, person=SAM)
    assert first is not None and first.payload["text"] == "reply 1"
    assert outbox.claim(now=NOW, person=SAM) is None  # reply 2 waits for reply 1
    other = outbox.claim(now=NOW)  # anyone's: only Alex's head is free
    assert other is not None and other.payload["text"] == "reply 9"
    assert outbox.claim(now=NOW) is None


def test_a_lease_that_runs_out_gives_the_row_to_another_sender_in_doubt(
    outbox: Outbox,
) -> None:
    outbox.add(SAM, [post(1)], now=NOW)
    first = outbox.claim(now=NOW, person=SAM)
    assert first is not None
    assert outbox.claim(now=NOW + LEASE - dt.timedelta(seconds=1)) is None
    again = outbox.claim(now=NOW + LEASE)
    assert again is not None and again.in_doubt and again.delivery == first.delivery
    assert not outbox.delivered(first)  # the first sender lost its claim
    assert outbox.delivered(again)
    assert outbox.pending() == 0


def test_a_released_row_waits_until_its_retry_time(outbox: Outbox) -> None:
    outbox.add(SAM, [post(1), post(2)], now=NOW)
    first = outbox.claim(now=NOW, person=SAM)
    assert first is not None
    assert outbox.release(first, retry_at=NOW + dt.timedelta(seconds=30))
    assert outbox.claim(now=NOW + dt.timedelta(seconds=29)) is None
    again = outbox.claim(now=NOW + dt.timedelta(seconds=30))
    assert again is not None and again.payload["text"] == "reply 1" and again.in_doubt


def test_rows_are_written_with_the_step_or_not_at_all(store: Store, outbox: Outbox) -> None:
    with pytest.raises(RuntimeError), store.writing():
        outbox.add(SAM, [post(1)], now=NOW)
        raise RuntimeError("the step failed")
    assert outbox.pending() == 0


def test_forget_erases_the_persons_rows(store: Store, outbox: Outbox) -> None:
    outbox.add(SAM, [post(1)], now=NOW)
    outbox.add(ALEX, [post(2)], now=NOW)
    store.forget(SAM)
    assert outbox.pending(SAM) == 0 and outbox.pending(ALEX) == 1


def test_a_row_whose_key_is_gone_reads_as_nothing_to_say(store: Store, outbox: Outbox) -> None:
    outbox.add(SAM, [post(1)], now=NOW)
    keyless = outbox_of(store)
    keyless.store = _Keyless(store)  # type: ignore[assignment]
    entry = keyless.claim(now=NOW)
    assert entry is not None and entry.payload == {}


class _Keyless:
    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def data_key(self, who: str, *, create: bool = False) -> None:
        return None


def test_concurrent_senders_deliver_each_row_once_and_in_order(outbox: Outbox) -> None:
    people = [Person(f"T1:U{n}") for n in range(6)]
    for person in people:
        outbox.add(person, [post(n) for n in range(5)], now=NOW)
    delivered: list[tuple[str, str]] = []

    def sender() -> None:
        while (entry := outbox.claim(now=NOW)) is not None:
            delivered.append((entry.pseudonym, str(entry.payload["text"])))
            assert outbox.delivered(entry)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(sender) for _ in range(4)]:
            future.result()
    assert len(delivered) == 30 and len(set(delivered)) == 30
    by_person: dict[str, list[str]] = {}
    for who, text in delivered:
        by_person.setdefault(who, []).append(text)
    assert all(texts == [f"reply {n}" for n in range(5)] for texts in by_person.values())
