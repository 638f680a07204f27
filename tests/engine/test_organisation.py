"""Per-organisation settings in the engine: checked as strictly as the built-in files, falling
back to the defaults, and applied to each person by their organisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine.conversation import Conversations
from bot.engine.library import FlowLibrary
from bot.engine.organisation import Organisation, OrganisationSettingError, check, resolve
from bot.engine.people import Person
from bot.engine.replies import FlowOffer, Signpost
from bot.engine.signposts import load_signposts
from bot.engine.supervisor_suggestion import SuggestionPolicy
from bot.engine.supervisors import load_directory
from tests.conftest import ROOT, Clock
from tests.fakes import MemoryStore

SIGNPOSTS = (ROOT / "config" / "signposts.yaml").read_text(encoding="utf-8")
SUPERVISORS = (ROOT / "config" / "supervisors.yaml").read_text(encoding="utf-8")
FLOWS = frozenset({"hard-day", "tiny"})

#: A school's own signposts: its own EAP and version, a review date of its own.
SCHOOL_SIGNPOSTS = SIGNPOSTS.replace('version: "2026.11-uk"', 'version: "school-2027.01"').replace(
    "review_by: 2027-05-01", "review_by: 2027-09-01"
) + (
    "\neap:\n  name: Hillside Schools EAP\n  how: Call 0800 011 2233, free, any time\n"
    "  when: Counselling paid for by the trust\n"
)
SCHOOL_SUPERVISORS = """\
supervisors:
  - name: Hillside Heads Supervision
    for: head teachers and deputies
    sectors: [education]
    nations: [England]
    cost: Paid by the trust
    format: One hour, online
    eligibility: Heads and deputies of Hillside schools
    wait: About a week
    confidentiality: Nothing is reported to the trust
    booking_url: https://supervision.hillside-trust.org.uk/book
"""


def defaults() -> Organisation:
    return Organisation(
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        supervisors=load_directory(ROOT / "config" / "supervisors.yaml").supervisors,
        default_flow="hard-day",
        retention_days=365,
    )


def _check(name: str, text: str) -> str:
    return check(name, text, defaults=defaults(), flows=FLOWS, source="upload.yaml")


def test_the_built_in_files_pass_as_an_organisations_own() -> None:
    assert _check("signposts", SIGNPOSTS) == SIGNPOSTS
    assert _check("supervisors", SCHOOL_SUPERVISORS) == SCHOOL_SUPERVISORS
    assert _check("default-flow", " tiny ") == "tiny"
    assert _check("retention-days", "90") == "90"


def test_a_broken_signposts_file_is_refused_with_every_problem() -> None:
    broken = (
        SIGNPOSTS.replace("review_by: 2027-05-01", "review_by: soon")
        .replace("reminder:", "reminders:")
        .replace("  - name: Shout\n", "  - name: Shout\n    colour: blue\n")
    )
    with pytest.raises(OrganisationSettingError) as raised:
        _check("signposts", broken)
    message = str(raised.value)
    assert "upload.yaml (signposts)" in message
    for problem in ("review_by", "unknown key 'reminders'", "reminder: required", "'colour'"):
        assert problem in message


def test_a_signposts_file_that_is_not_yaml_names_its_line() -> None:
    with pytest.raises(OrganisationSettingError, match=r"upload.yaml \(signposts\):3: not valid"):
        _check("signposts", 'version: "1"\nreview_by: 2027-01-01\ntext: a: b\n')


def test_a_placeholder_eap_is_refused_as_in_the_built_in_file() -> None:
    example = SIGNPOSTS + "\neap:\n  name: Your EAP\n  how: Call <your number>\n"
    with pytest.raises(OrganisationSettingError, match="eap: looks like the example"):
        _check("signposts", example)


def test_a_broken_supervisors_file_is_refused_with_file_and_line() -> None:
    unknown = SCHOOL_SUPERVISORS.replace(
        "    wait: About a week\n", "    wait: About a week\n    colour: blue\n"
    ).replace("    cost: Paid by the trust\n", "")
    with pytest.raises(OrganisationSettingError) as raised:
        _check("supervisors", unknown)
    message = str(raised.value)
    assert "upload.yaml (supervisors):2: supervisors.0.cost: Field required" in message
    assert "upload.yaml (supervisors):9: supervisors.0.colour: unknown key" in message
    plain_http = SCHOOL_SUPERVISORS.replace("https://supervision", "http://supervision")
    with pytest.raises(OrganisationSettingError, match=r"\(supervisors\):2: .*not an https"):
        _check("supervisors", plain_http)


def test_a_placeholder_entry_or_an_empty_directory_is_refused() -> None:
    placeholder = SCHOOL_SUPERVISORS.replace("hillside-trust.org.uk", "example.org")
    with pytest.raises(OrganisationSettingError, match=r"\(supervisors\):2: .*placeholder"):
        _check("supervisors", placeholder)
    with pytest.raises(OrganisationSettingError, match="no supervisor is listed"):
        _check("supervisors", "supervisors: []\n")


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("default-flow", "gibbs", "no flow 'gibbs'"),
        ("retention-days", "0", "choose from 1 to 365"),
        ("retention-days", "400", "choose from 1 to 365"),
        ("retention-days", "a year", "a whole number of days"),
        ("colour", "blue", "unknown setting 'colour'"),
    ],
)
def test_other_settings_are_checked(name: str, text: str, problem: str) -> None:
    with pytest.raises(OrganisationSettingError, match=problem):
        _check(name, text)


def test_what_is_not_set_or_no_longer_passes_falls_back_to_the_default() -> None:
    base = defaults()
    found = resolve(
        {"supervisors": SCHOOL_SUPERVISORS, "default-flow": "gone-flow", "retention-days": "30"},
        defaults=base,
        flows=FLOWS,
        source="organisation ab12",
    )
    assert found.own == {"supervisors", "retention-days"}
    assert [s.name for s in found.supervisors] == ["Hillside Heads Supervision"]
    assert found.retention_days == 30
    assert found.signposts is base.signposts
    assert found.default_flow == "hard-day"
    assert len(found.warnings) == 1 and "default-flow left at the default" in found.warnings[0]
    # A server retention shortened since: the organisation's longer one no longer applies.
    shorter = resolve(
        {"retention-days": "300"},
        defaults=replace(base, retention_days=200),
        flows=FLOWS,
        source="organisation ab12",
    )
    assert shorter.retention_days == 200 and shorter.own == frozenset()


HOSPITAL = Person("THOSPITAL:U1")
SCHOOL = Person("TSCHOOL:U2")
TERMINAL = Person("terminal:alex")


@pytest.fixture
def two_organisations(conversations: Conversations) -> Conversations:
    base = replace(
        defaults(),
        supervisors=load_directory(ROOT / "config" / "supervisors.yaml").supervisors,
    )
    school = resolve(
        {
            "signposts": SCHOOL_SIGNPOSTS,
            "supervisors": SCHOOL_SUPERVISORS,
            "default-flow": "tiny",
        },
        defaults=base,
        flows=FLOWS,
        source="school",
    )
    assert school.own == {"signposts", "supervisors", "default-flow"}
    by_workspace = {"THOSPITAL": base, "TSCHOOL": school}

    def organisation_of(person: Person) -> Organisation | None:
        return by_workspace.get(person.id.partition(":")[0])

    return Conversations(
        library=conversations.library,
        store=conversations.store,
        signposts=base.signposts,
        suggestions=SuggestionPolicy(supervisors=base.supervisors),
        clock=conversations.clock,
        organisation_of=organisation_of,
    )


def _card(replies: Sequence[object]) -> Signpost:
    cards = [reply for reply in replies if isinstance(reply, Signpost)]
    assert cards, replies
    return cards[0]


def test_each_person_gets_their_own_organisations_crisis_support(
    two_organisations: Conversations,
) -> None:
    risk = "I want to kill myself"
    school_card = _card(two_organisations.receive(SCHOOL, risk))
    hospital_card = _card(two_organisations.receive(HOSPITAL, risk))
    terminal_card = _card(two_organisations.receive(TERMINAL, risk))
    assert any("Hillside Schools EAP" in r.name for r in school_card.resources)
    assert not any("Hillside" in r.name for r in hospital_card.resources)
    assert hospital_card.resources == terminal_card.resources


def test_each_person_gets_their_own_directory_and_first_flow(
    two_organisations: Conversations,
) -> None:
    school = two_organisations.supervisors_for(SCHOOL)
    hospital = two_organisations.supervisors_for(HOSPITAL)
    assert [s.name for s in school] == ["Hillside Heads Supervision"]
    assert hospital == two_organisations.suggestions.supervisors and hospital != school
    offers = {who: two_organisations.offer(who)[0] for who in (SCHOOL, HOSPITAL, TERMINAL)}
    assert all(isinstance(offer, FlowOffer) for offer in offers.values())
    firsts = {who: offer.flows[0].value for who, offer in offers.items()}  # type: ignore[union-attr]
    assert firsts == {SCHOOL: "tiny", HOSPITAL: "hard-day", TERMINAL: "hard-day"}


def test_without_organisations_nothing_changes(
    conversations: Conversations, store: MemoryStore, clock: Clock, tmp_path: Path
) -> None:
    plain = Conversations(
        library=FlowLibrary(list(conversations.library)),
        store=store,
        signposts=conversations.signposts,
        clock=clock,
    )
    assert plain.organisation(SCHOOL) is None
    assert plain.supervisors_for(SCHOOL) == ()
