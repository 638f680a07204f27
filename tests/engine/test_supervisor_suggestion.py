"""The supervisor nudge: gentle by default, firm when the load looks heavy, and not too often."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine import messages
from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.people import Person
from bot.engine.reflections import Answer, StoredReflection
from bot.engine.replies import Supervisor, SupervisorNudge
from bot.engine.sessions import Session
from bot.engine.signposts import load_signposts
from bot.engine.supervisor_nudge import (
    NudgePolicy,
    SupervisorsError,
    load_supervisors,
    parse_supervisors,
    says_stuck,
)
from tests.conftest import NOW, ROOT, Clock, flow_from
from tests.fakes import MemoryStore

SAM = Person("terminal:sam", first_name="Sam")
SUPERVISOR = Supervisor("Alex Rivers", "Ward managers", booking_url="https://example.org/book")
POLICY = NudgePolicy(supervisors=(SUPERVISOR,))


def _session(flow: Flow, *, signposted: bool = False, **answers: Any) -> Session:
    return Session(
        flow_id=flow.id,
        step_id=flow.steps[-1].id,
        started_at=NOW - dt.timedelta(minutes=5),
        answers=dict(answers),
        signposted=signposted,
    )


def _earlier(
    flow_id: str, value: int, *, days_ago: float, step_id: str = "weight"
) -> StoredReflection:
    finished = NOW - dt.timedelta(days=days_ago)
    return StoredReflection(
        id=f"r-{flow_id}-{days_ago}",
        flow_id=flow_id,
        started_at=finished - dt.timedelta(minutes=4),
        finished_at=finished,
        summary="",
        answers=(Answer(step_id, "scale", value), Answer("what_happened", "text", "a day")),
    )


def _nudge(
    flow: Flow,
    session: Session,
    *,
    recent: list[StoredReflection] | None = None,
    last_firm: dt.datetime | None = None,
    policy: NudgePolicy = POLICY,
) -> SupervisorNudge:
    return policy.after(
        flow=flow, session=session, recent=recent or [], last_firm=last_firm, now=NOW
    )


# ---------------------------------------------------------------------- gentle by default


def test_every_finished_flow_ends_with_a_gentle_offer(hard_day: Flow) -> None:
    nudge = _nudge(hard_day, _session(hard_day, weight=4, what_happened="A long meeting"))
    assert not nudge.firm
    assert nudge.text == messages.text("nudge.gentle")
    assert nudge.supervisors == (SUPERVISOR,)


def test_without_supervisors_the_offer_suggests_asking_about_supervision(hard_day: Flow) -> None:
    policy = NudgePolicy()
    assert _nudge(hard_day, _session(hard_day), policy=policy).text == messages.text(
        "nudge.gentle_general"
    )
    heavy = _nudge(hard_day, _session(hard_day, signposted=True), policy=policy)
    assert heavy.firm and heavy.text == messages.text("nudge.firm_general")
    assert heavy.supervisors == ()


@pytest.mark.parametrize("key", ["gentle", "firm", "gentle_general", "firm_general"])
def test_the_words_are_never_pushy_or_alarming(key: str) -> None:
    text = messages.text(f"nudge.{key}")
    assert "outside your line management" in text
    assert "!" not in text
    for word in ("must", "urgent", "immediately", "crisis", "worried about you", "should"):
        assert word not in text.lower()


# ---------------------------------------------------------------------- what makes it firm


def test_a_safety_signpost_in_the_session_makes_it_firm(hard_day: Flow) -> None:
    session = _session(hard_day, signposted=True, weight=5)
    assert POLICY.reasons(flow=hard_day, session=session, recent=[], now=NOW) == {"signposted"}
    nudge = _nudge(hard_day, session)
    assert nudge.firm and nudge.text == messages.text("nudge.firm")


@pytest.mark.parametrize(
    "answer",
    [
        "Honestly I feel stuck",
        "Going round in circles with the rota",
        "I’m STUUUCK",
        "I can't see a way forward with her",
        "Totally out of my depth",
        "Feeling trapped. Long day.",
        "Stuck.",
        "Bring one thing I'm stuck on",
    ],
)
def test_saying_you_feel_stuck_makes_it_firm(hard_day: Flow, answer: str) -> None:
    session = _session(hard_day, weight=4, what_happened=answer)
    assert POLICY.reasons(flow=hard_day, session=session, recent=[], now=NOW) == {"stuck"}
    assert _nudge(hard_day, session).firm


@pytest.mark.parametrize(
    "answer",
    [
        "I'm not stuck any more",
        "No longer stuck, thankfully",
        "I don't feel stuck",
        "Evidence that the actions stuck",
        "A stuckness-free day",
        "",
    ],
)
def test_saying_you_are_not_stuck_does_not(answer: str) -> None:
    assert not says_stuck(answer)


def test_a_chosen_option_meaning_stuck_counts(hard_day: Flow) -> None:
    flow = flow_from(
        {
            "steps": [
                {
                    "id": "where",
                    "kind": "choice",
                    "prompt": "Where are you with it?",
                    "options": [
                        {"value": "moving", "label": "Moving on"},
                        {"value": "stuck", "label": "Going nowhere"},
                    ],
                },
                {
                    "id": "what",
                    "kind": "multi",
                    "prompt": "What's around?",
                    "options": [
                        {"value": "tired", "label": "Tired"},
                        {"value": "feeling-stuck", "label": "Nowhere to go"},
                    ],
                },
            ]
        }
    )
    assert _nudge(flow, _session(flow, where="stuck")).firm
    assert _nudge(flow, _session(flow, what=["tired", "feeling-stuck"])).firm
    assert not _nudge(flow, _session(flow, where="moving", what=["tired"])).firm


def test_one_low_score_on_its_own_stays_gentle(hard_day: Flow) -> None:
    assert not _nudge(hard_day, _session(hard_day, weight=1)).firm


def test_low_scores_now_and_recently_make_it_firm(hard_day: Flow) -> None:
    recent = [_earlier("hard-day", 2, days_ago=3)]
    session = _session(hard_day, weight=2)
    assert POLICY.reasons(flow=hard_day, session=session, recent=recent, now=NOW) == {"low_scores"}
    assert _nudge(hard_day, session, recent=recent).firm


def test_two_low_recent_reflections_count_even_when_today_is_lighter(hard_day: Flow) -> None:
    recent = [_earlier("hard-day", 1, days_ago=2), _earlier("hard-day", 2, days_ago=6)]
    assert _nudge(hard_day, _session(hard_day, weight=4), recent=recent).firm


def test_scores_in_the_middle_of_the_scale_are_not_low(hard_day: Flow) -> None:
    recent = [_earlier("hard-day", 3, days_ago=2), _earlier("hard-day", 3, days_ago=6)]
    assert not _nudge(hard_day, _session(hard_day, weight=3), recent=recent).firm


def test_old_reflections_do_not_count(hard_day: Flow) -> None:
    recent = [_earlier("hard-day", 1, days_ago=40)]
    assert not _nudge(hard_day, _session(hard_day, weight=1), recent=recent).firm


def test_only_the_configured_number_of_reflections_is_looked_back_over(hard_day: Flow) -> None:
    recent = [
        _earlier("hard-day", 5, days_ago=1),
        _earlier("hard-day", 1, days_ago=2),
        _earlier("hard-day", 1, days_ago=3),
    ]
    session = _session(hard_day, weight=5)
    assert _nudge(hard_day, session, recent=recent).firm
    short = NudgePolicy(supervisors=(SUPERVISOR,), look_back=1, low_needed=1)
    assert not _nudge(hard_day, session, recent=recent, policy=short).firm


def test_the_flows_own_scale_bounds_are_used() -> None:
    flow = flow_from(
        {
            "id": "energy",
            "steps": [
                {
                    "id": "energy",
                    "kind": "scale",
                    "prompt": "Energy?",
                    "min": 0,
                    "max": 10,
                    "labels": {"min": "empty", "max": "full"},
                }
            ],
        }
    )
    one_low = NudgePolicy(low_needed=1)
    assert one_low.after(
        flow=flow, session=_session(flow, energy=3), recent=[], last_firm=None, now=NOW
    ).firm
    assert not one_low.after(
        flow=flow, session=_session(flow, energy=4), recent=[], last_firm=None, now=NOW
    ).firm
    # An earlier reflection of this flow is read on its own 0..10 scale...
    assert one_low.after(
        flow=flow,
        session=_session(flow, energy=9),
        recent=[_earlier("energy", 3, days_ago=1, step_id="energy")],
        last_firm=None,
        now=NOW,
    ).firm
    # ...and one from another flow, whose scale is not at hand, on 1..5 if it fits there.
    assert not one_low.after(
        flow=flow,
        session=_session(flow, energy=9),
        recent=[_earlier("elsewhere", 7, days_ago=1, step_id="x")],
        last_firm=None,
        now=NOW,
    ).firm
    assert one_low.after(
        flow=flow,
        session=_session(flow, energy=9),
        recent=[_earlier("elsewhere", 2, days_ago=1, step_id="x")],
        last_firm=None,
        now=NOW,
    ).firm


# ---------------------------------------------------------------------- how often


def test_a_firm_nudge_appears_at_most_once_per_period(hard_day: Flow) -> None:
    heavy = _session(hard_day, signposted=True)
    assert not _nudge(hard_day, heavy, last_firm=NOW - dt.timedelta(days=3)).firm
    assert not _nudge(hard_day, heavy, last_firm=NOW - dt.timedelta(days=13, hours=23)).firm
    assert _nudge(hard_day, heavy, last_firm=NOW - dt.timedelta(days=14)).firm
    assert _nudge(hard_day, heavy, last_firm=None).firm


def test_the_period_is_configurable(hard_day: Flow) -> None:
    heavy = _session(hard_day, signposted=True)
    weekly = NudgePolicy(firm_every=dt.timedelta(days=7))
    assert _nudge(hard_day, heavy, last_firm=NOW - dt.timedelta(days=8), policy=weekly).firm
    always = NudgePolicy(firm_every=dt.timedelta(0))
    assert _nudge(hard_day, heavy, last_firm=NOW, policy=always).firm


def test_a_last_firm_time_without_a_time_zone_is_read_as_utc(hard_day: Flow) -> None:
    naive = (NOW - dt.timedelta(days=1)).replace(tzinfo=None)
    assert not _nudge(hard_day, _session(hard_day, signposted=True), last_firm=naive).firm


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"firm_every": dt.timedelta(days=-1)}, "firm_every"),
        ({"look_back": 1, "low_needed": 3}, "low_needed"),
        ({"low_needed": 0}, "low_needed"),
        ({"low_fraction": 1.5}, "low_fraction"),
    ],
)
def test_impossible_settings_are_refused_clearly(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        NudgePolicy(**settings)


def test_the_bound_holds_across_real_conversations(hard_day: Flow, clock: Clock) -> None:
    store = MemoryStore()
    conversations = Conversations(
        library=FlowLibrary([hard_day]),
        store=store,
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        nudges=NudgePolicy(supervisors=(SUPERVISOR,), firm_every=dt.timedelta(days=14)),
        clock=clock,
    )

    def walk(weight: str) -> SupervisorNudge:
        conversations.start(SAM, "hard-day")
        replies: list[Any] = []
        for text in ["A parent complaint", weight, "Rattled", "rest", "The inbox", "skip"]:
            replies = conversations.receive(SAM, text)
        nudges = [reply for reply in replies if isinstance(reply, SupervisorNudge)]
        assert len(nudges) == 1
        return nudges[0]

    assert not walk("2").firm  # one low score
    assert walk("1").firm  # two in a row
    assert not walk("1").firm  # still heavy, but a firm nudge was just shown
    clock.now += dt.timedelta(days=14)
    assert walk("2").firm
    firm_events = [event for event in store.events if event[1] == "nudge_firm_shown"]
    assert len(firm_events) == 2


# ---------------------------------------------------------------------- the supervisors file


def test_the_shipped_supervisors_file_loads() -> None:
    people = load_supervisors(ROOT / "config" / "supervisors.yaml")
    assert people and all(p.name and p.supports and (p.booking_url or p.email) for p in people)


def test_the_file_wide_booking_address_fills_gaps(tmp_path: Path) -> None:
    path = tmp_path / "supervisors.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "booking_url": "https://example.org/book",
                "supervisors": [
                    {"name": "Jo Park", "supports": "Head teachers"},
                    {"name": "Ash Lee", "supports": "Ward managers", "email": "ash@example.org"},
                ],
            }
        ),
        encoding="utf-8",
    )
    jo, ash = load_supervisors(path)
    assert jo.booking_url == "https://example.org/book" and jo.email is None
    assert ash.email == "ash@example.org" and ash.booking_url is None


def test_an_empty_file_means_no_supervisors(tmp_path: Path) -> None:
    path = tmp_path / "supervisors.yaml"
    path.write_text("# none yet\n", encoding="utf-8")
    assert load_supervisors(path) == ()
    assert parse_supervisors({"supervisors": []}) == ()


def test_every_problem_in_the_supervisors_file_is_reported(tmp_path: Path) -> None:
    data = {
        "booking": "https://example.org",
        "supervisors": [
            {"name": "Jo Park"},
            {"supports": "Heads", "booking_url": "example.org/book"},
            {"name": "Ash Lee", "supports": "Nurses", "email": "not-an-address"},
            {"name": "jo park", "supports": "Again", "email": "jo@example.org", "phone": "1"},
            "Sam",
        ],
    }
    path = tmp_path / "supervisors.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SupervisorsError) as error:
        load_supervisors(path)
    message = str(error.value)
    assert str(path) in message
    for expected in (
        "unknown key 'booking'",
        "item 1: supports is required",
        "item 1: give a booking_url or an email",
        "item 2: name is required",
        "item 2: booking_url: 'example.org/book' is not a web address",
        "item 3: email: 'not-an-address' is not an email address",
        "item 4: 'jo park' is listed twice",
        "item 4: unknown key 'phone'",
        "item 5: expected name, supports",
    ):
        assert expected in message


def test_unreadable_or_broken_supervisors_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SupervisorsError, match="cannot read the supervisors file"):
        load_supervisors(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("supervisors: [unclosed\n", encoding="utf-8")
    with pytest.raises(SupervisorsError, match="not valid YAML"):
        load_supervisors(broken)
    with pytest.raises(SupervisorsError, match="expected a list"):
        parse_supervisors({"supervisors": "Jo"})
