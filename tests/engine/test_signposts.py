"""Crisis signposts: the shipped UK file, the two cards, validation and the review date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.replies import Signpost
from bot.engine.safety import Concern
from bot.engine.signposts import Signposts, SignpostsError, load_signposts, parse_signposts
from tests.conftest import ROOT, Clock
from tests.engine.config_files import assert_bad_files_are_clear_errors
from tests.fakes import MemoryStore

SHIPPED = ROOT / "config" / "signposts.yaml"
SAM = Person(id="terminal:sam", first_name="Sam")
#: Words that would discuss methods; safe messaging says never.
METHOD_WORDS = ("overdose", "tablets", "pills", "hang", "rope", "jump", "bridge", "method", "knife")


@pytest.fixture
def shipped() -> Signposts:
    return load_signposts(SHIPPED)


def _data() -> dict[str, Any]:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _service(shipped: Signposts, name: str) -> Any:
    return next(service for service in shipped.services if service.name == name)


def test_the_shipped_file_lists_the_uk_defaults(shipped: Signposts) -> None:
    listed = " | ".join(f"{s.name}: {s.how}" for s in shipped.services)
    assert "Samaritans: Call 116 123" in listed
    assert "SHOUT to 85258" in listed
    assert "111" in listed and "option 2" in listed
    assert "999" in listed and "A&E" in listed
    assert shipped.version and isinstance(shipped.review_by, dt.date)


@pytest.mark.parametrize(
    ("name", "serves"),
    [
        ("Samaritans", {"England", "Wales", "Scotland", "Northern Ireland", "Republic of Ireland"}),
        ("Shout", {"England", "Wales", "Scotland", "Northern Ireland"}),
        ("NHS 111", {"England", "Wales"}),
        ("NHS 24", {"Scotland"}),
        ("Lifeline", {"Northern Ireland"}),
        ("Education Support", {"England", "Wales", "Scotland", "Northern Ireland"}),
        ("NHS Practitioner Health", {"England"}),
        ("Your GP", {"England", "Wales", "Scotland", "Northern Ireland"}),
    ],
)
def test_every_service_says_which_nations_it_serves(
    shipped: Signposts, name: str, serves: set[str]
) -> None:
    assert set(_service(shipped, name).serves) == serves


def test_every_nation_has_urgent_help_and_a_line_open_all_night(shipped: Signposts) -> None:
    for nation in ("England", "Wales", "Scotland", "Northern Ireland"):
        reachable = [s for s in shipped.services if nation in s.serves]
        assert any("111" in s.how or "0808 808 8000" in s.how for s in reachable), nation
        assert any("999" in s.how for s in reachable), nation


def test_services_for_some_people_only_say_whom(shipped: Signposts) -> None:
    assert _service(shipped, "Education Support").audience
    assert _service(shipped, "NHS Practitioner Health").audience
    assert not _service(shipped, "Samaritans").audience


def test_each_card_line_carries_its_label(shipped: Signposts) -> None:
    for service, resource in zip(shipped.services, shipped.resources, strict=True):
        assert resource.name.startswith(service.name)
        assert service.label and service.label in resource.name
    assert _service(shipped, "NHS 111").label == "England and Wales"
    assert _service(shipped, "Samaritans").label == "UK and Ireland"
    assert _service(shipped, "Shout").label == "UK-wide"


def test_no_eap_is_shown_until_one_is_set(shipped: Signposts) -> None:
    assert shipped.eap is None
    assert len(shipped.resources) == len(shipped.services)


def test_an_organisations_eap_is_shown_after_the_national_lines() -> None:
    data = _data()
    data["eap"] = {
        "name": "Acme staff counselling",
        "how": "Call 0800 123 4567, any time",
        "when": "Paid for by your employer",
        "serves": ["England"],
    }
    signposts = parse_signposts(data)
    assert signposts.eap is not None
    assert signposts.resources[2].name.startswith("Acme staff counselling")
    assert len(signposts.resources) == len(signposts.services) + 1
    card = signposts.signpost(Concern("crisis"))
    assert card.resources[2] == signposts.resources[2]


@pytest.mark.parametrize(
    "how", ["Call <the number your EAP gives you>", "Call 0800 000 0000", "TBC"]
)
def test_an_unfilled_eap_example_is_refused(how: str) -> None:
    data = _data()
    data["eap"] = {"name": "Employee Assistance Programme", "how": how}
    with pytest.raises(SignpostsError, match="eap: looks like the example"):
        parse_signposts(data)


def test_an_unknown_nation_is_a_problem() -> None:
    data = _data()
    data["resources"][0]["serves"] = ["England", "Cornwall"]
    with pytest.raises(SignpostsError, match="serves names 'Cornwall'"):
        parse_signposts(data)


def test_the_crisis_card_is_warm_direct_and_honest_about_what_reflect_is(
    shipped: Signposts,
) -> None:
    card = shipped.signpost(Concern("crisis"))
    assert not card.gentle and card.offer_pause
    assert "isn't a crisis service" in card.text
    assert "no one is reading" in card.text
    assert "999" in card.text
    assert card.resources == shipped.resources


def test_the_gentler_card_for_others_still_lists_support(shipped: Signposts) -> None:
    card = shipped.signpost(Concern("others"))
    crisis = shipped.signpost(Concern("crisis"))
    assert card.gentle
    assert card.text != crisis.text
    assert "for you too" in card.text
    assert "isn't a crisis service" in card.text
    assert card.resources == shipped.resources


def test_no_card_mentions_methods(shipped: Signposts) -> None:
    words = " ".join(
        [
            shipped.signpost(Concern("crisis")).text,
            shipped.signpost(Concern("others")).text,
            shipped.reminder,
            *(f"{r.name} {r.how} {r.when}" for r in shipped.resources),
        ]
    ).lower()
    assert not [word for word in METHOD_WORDS if word in words]


def test_the_reminder_is_one_line_with_the_numbers(shipped: Signposts) -> None:
    assert "\n" not in shipped.reminder
    for number in ("116 123", "85258", "111", "999"):
        assert number in shipped.reminder


# ---------------------------------------------------------------------- the review date


def test_a_past_review_date_is_a_warning_not_a_crash(shipped: Signposts) -> None:
    after = shipped.review_by + dt.timedelta(days=1)
    assert shipped.overdue(now=after)
    warnings = shipped.warnings(now=after)
    assert len(warnings) == 1
    assert "due for review" in warnings[0] and shipped.review_by.isoformat() in warnings[0]
    assert "signposts.yaml" in warnings[0]


def test_a_review_date_close_by_is_mentioned(shipped: Signposts) -> None:
    soon = shipped.review_by - dt.timedelta(days=10)
    assert not shipped.overdue(now=soon)
    assert "due for review by" in shipped.warnings(now=soon)[0]


def test_a_review_date_far_off_needs_no_warning(shipped: Signposts) -> None:
    moment = dt.datetime.combine(
        shipped.review_by - dt.timedelta(days=200), dt.time(9), tzinfo=dt.UTC
    )
    assert not shipped.overdue(now=moment)
    assert shipped.warnings(now=moment) == ()


def test_the_review_day_itself_is_not_overdue(shipped: Signposts) -> None:
    assert not shipped.overdue(now=shipped.review_by)


def test_a_file_without_an_emergency_route_is_warned_about() -> None:
    data = _data()
    data["resources"] = [{"name": "Samaritans", "how": "Call 116 123"}]
    signposts = parse_signposts(data)
    early = signposts.review_by - dt.timedelta(days=200)
    assert any("at risk now" in warning for warning in signposts.warnings(now=early))


# ---------------------------------------------------------------------- validation


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = _data()
    del data["text"]
    data["review_by"] = "next spring"
    data["reminder"] = "line one\nline two"
    data["resources"] = [
        {"name": "Samaritans"},
        {"how": "Text SHOUT to 85258", "colour": "blue"},
        "999",
    ]
    data["extra"] = True
    path = tmp_path / "signposts.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SignpostsError) as error:
        load_signposts(path)
    message = str(error.value)
    assert str(path) in message
    for expected in (
        "text: required",
        "review_by: required, a date",
        "reminder: keep it to one line",
        "resources, item 1: how is required",
        "resources, item 2: name is required",
        "resources, item 2: unknown key 'colour'",
        "resources, item 3: expected name, how and when",
        "unknown key 'extra'",
    ):
        assert expected in message


def test_a_missing_version_or_empty_resources_are_problems() -> None:
    data = _data()
    data["version"] = "  "
    data["resources"] = []
    with pytest.raises(SignpostsError) as error:
        parse_signposts(data, source="org.yaml")
    assert "version: required" in str(error.value)
    assert "resources: required" in str(error.value)


def test_a_card_too_long_for_a_message_is_refused() -> None:
    data = _data()
    data["gentle_text"] = "word " * 400
    with pytest.raises(SignpostsError, match="gentle_text: 1999 characters; keep it under 1500"):
        parse_signposts(data)


def test_a_review_date_written_as_text_is_read() -> None:
    data = _data()
    data["review_by"] = "2030-01-31"
    assert parse_signposts(data).review_by == dt.date(2030, 1, 31)


def test_unreadable_or_broken_files_give_clear_errors(tmp_path: Path) -> None:
    assert_bad_files_are_clear_errors(
        load_signposts, SignpostsError, what="the signposts file", tmp_path=tmp_path
    )


# ---------------------------------------------------------------------- in a conversation


def test_a_leader_talking_about_a_pupil_gets_the_gentler_card_first(
    shipped: Signposts, clock: Clock, hard_day: Flow
) -> None:
    store = MemoryStore()
    conversations = Conversations(
        library=FlowLibrary([hard_day]), store=store, signposts=shipped, clock=clock
    )
    conversations.start(SAM, "hard-day")
    replies = conversations.receive(SAM, "A pupil disclosed self-harm today")
    assert isinstance(replies[0], Signpost) and replies[0].gentle
    # Not a crisis: its own event, and no reminder line under the next question.
    assert [event[1] for event in store.events] == ["gentle_signpost_shown"]
    later = conversations.receive(SAM, "3")
    assert shipped.reminder not in [getattr(reply, "text", "") for reply in later]
