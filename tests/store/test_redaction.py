"""Redaction before storage: identifiers become placeholders; ordinary words and numbers stay."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.engine.people import Person
from bot.store.redaction import is_nhs_number, redact
from bot.store.sqlite import SqliteStore
from tests.store.conftest import reflection


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("talked to <@U012ABCDEF> again", "talked to [colleague] again"),
        ("<@W0123ABCD|sam.jones> was brilliant", "[colleague] was brilliant"),
        ("posted in <#C0123ABCD|ward-7-incidents>", "posted in [colleague]"),
        ("<!subteam^S0123ABC|@night-team> knew", "[colleague] knew"),
        ("U0123ABCD9 said it first", "[colleague] said it first"),
        ("mail sam.jones@nhs.net today", "mail [email] today"),
        ("see https://intranet.trust.nhs.uk/policy?id=4.", "see [link]."),
        ("see <https://example.org/x|the policy>", "see [link]"),
        ("www.example.org/path, then", "[link], then"),
        ("her mobile is 07911 123456", "her mobile is [phone]"),
        ("drama number 07700 900123 too", "drama number [phone] too"),
        ("switchboard 0161 496 0000 ext", "switchboard [phone] ext"),
        ("London +44 20 7946 0958!", "London [phone]!"),
        ("US office +1 415 555 2671", "US office [phone]"),
        ("Paris +33 1 42 68 53 00", "Paris [phone]"),
        ("NHS no 943 476 5919", "NHS no [nhs-number]"),
        ("nhs 9434765919.", "nhs [nhs-number]."),
        ("nhs 943-476-5919", "nhs [nhs-number]"),
        ("nhs 943.476.5919", "nhs [nhs-number]"),
        ("nhs 943/476/5919", "nhs [nhs-number]"),
        ("call 555.123.4567 or 555/123/4567", "call [phone] or [phone]"),
        ("ask @alice first", "ask [colleague] first"),
        ("@alice.smith knew", "[colleague] knew"),
        ("write to name(at)nhs.net", "write to [email]"),
        ("write to name [at] nhs [dot] net today", "write to [email] today"),
        ("full-width sam＠nhs.net", "full-width [email]"),
        ("small sam﹫trust.nhs.uk.", "small [email]."),
        ("see nhs.net or trust.nhs.uk/page?id=1.", "see [link] or [link]."),
        ("bit.ly/abc, then", "[link], then"),
        ("files at ftp://files.example.org/x and sftp://host/y", "files at [link] and [link]"),
        ("<ftp://files.example.org/x|the files>", "[link]"),
    ],
)
def test_identifiers_become_placeholders(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "UNBELIEVABLE day, 12 beds, 3 staff off",
        "from 2019 to 2020 and again 12/03/2024 at 10:30-11:00",
        "scored it 4 out of 5; ref 1234567; bay 12345678",
        "943 476 5918 fails the check digit",
        "a@ sign alone, and http alone",
        "the 3-2-1 plan, and 999 or 111 if needed",
        "e.g. this, i.e. that, v1.2 and 12.5 out of 20",
        "a long day.It was fine, and so.on",
        "meet @ 5pm, or email me later",
        "version 2.0.1 is out",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_nhs_check_digit() -> None:
    assert is_nhs_number("9434765919")
    assert not is_nhs_number("9434765918")
    assert not is_nhs_number("943476591")
    assert not is_nhs_number("12345678ab")
    # check digit 10 is never valid
    assert not any(is_nhs_number(f"000000006{d}") for d in range(10))


def test_free_text_and_summaries_are_redacted_on_the_way_in(
    sqlite_store: SqliteStore, sam: Person
) -> None:
    sqlite_store.finish(
        sam,
        reflection(
            text="<@U012ABCDEF> rang 07911 123456",
            summary="You spoke to sam@trust.nhs.uk about 943 476 5919",
        ),
    )
    (kept,) = sqlite_store.reflections(sam)
    assert kept.summary == "You spoke to [email] about [nhs-number]"
    assert kept.answers[0].value == "[colleague] rang [phone]"
    assert kept.answers[1].value == 2 and kept.answers[2].value == "rest"


def _nhs(nine: str) -> str | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else nine + str(check)


_WORDS = st.lists(st.sampled_from(["the", "ward", "was", "busy", "today", "and", "I", "felt"]))
_NINE_DIGITS = st.text(alphabet="0123456789", min_size=9, max_size=9)
_SEPARATORS = st.sampled_from(["", " ", "-"])


@settings(max_examples=200, deadline=None)
@given(before=_WORDS, after=_WORDS, nine=_NINE_DIGITS, sep=_SEPARATORS)
def test_any_valid_nhs_number_is_redacted(
    before: list[str], after: list[str], nine: str, sep: str
) -> None:
    number = _nhs(nine)
    assume(number is not None)
    assert number is not None
    written = f"{number[:3]}{sep}{number[3:6]}{sep}{number[6:]}"
    text = " ".join([*before, written, *after])
    redacted = redact(text)
    assert number not in redacted.replace(" ", "").replace("-", "")
    assert redacted.split() == [*before, "[nhs-number]", *after]


@settings(max_examples=200, deadline=None)
@given(
    before=_WORDS,
    after=_WORDS,
    digits=st.text(alphabet="0123456789", min_size=9, max_size=9),
    user=st.from_regex(r"[a-z][a-z0-9.]{0,10}[a-z0-9]", fullmatch=True),
    domain=st.sampled_from(["nhs.net", "school.org.uk", "example.com"]),
)
def test_any_mobile_number_or_email_is_redacted(
    before: list[str], after: list[str], digits: str, user: str, domain: str
) -> None:
    mobile = f"07{digits}"
    text = " ".join([*before, f"{mobile[:5]} {mobile[5:]}", "or", f"{user}@{domain}", *after])
    redacted = redact(text)
    assert digits[-6:] not in redacted and f"{user}@" not in redacted
    assert "[phone]" in redacted and "[email]" in redacted


def test_redaction_runs_before_the_store_starts_writing(
    sqlite_store: SqliteStore, sam: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redacting a long answer takes time: it is done before the writing transaction, so
    nobody else waits for it."""
    import bot.store.rows as module

    writing: list[bool] = []

    def spy(text: str) -> str:
        writing.append(sqlite_store._files._thread().writing)
        return redact(text)

    monkeypatch.setattr(module, "redact", spy)
    sqlite_store.finish(sam, reflection(text="call 07911 123456", summary="a summary"))
    assert len(writing) == 2 and not any(writing)
