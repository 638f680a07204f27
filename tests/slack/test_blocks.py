"""Rendering the engine's replies as Block Kit, within the limits slack_sdk does not check."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.engine.replies import (
    Choice,
    FlowOffer,
    Question,
    Reply,
    Resource,
    Say,
    Scale,
    Signpost,
    Summary,
    Supervisor,
    SupervisorSuggestion,
)
from bot.slack.views import copy
from bot.slack.views.blocks import compose
from bot.slack.views.fitting import split_text
from bot.slack.views.questions import block_id, read_block_id

OWNER = "0123456789abcdef"


def _question(kind: str, *, options: int = 0, **extra: object) -> Question:
    choices = tuple(Choice(f"opt{i}", f"Option number {i} " + "x" * 90) for i in range(options))
    return Question(
        flow_id="hard-day",
        flow_title="After a hard day",
        step_id="step_one",
        step_kind=kind,  # type: ignore[arg-type]
        text="What happened?",
        position=1,
        choices=choices,
        **extra,  # type: ignore[arg-type]
    )


def _dicts(replies: list) -> list[list[dict]]:
    return [[block.to_dict() for block in post.blocks] for post in compose(replies, owner=OWNER)]


def _controls(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_every_kind_of_reply_renders_to_valid_blocks() -> None:
    replies = [
        Say("Hello <there> & welcome"),
        _question("text"),
        FlowOffer("Choose one", (Choice("hard-day", "After a hard day"), Choice("b", "B"))),
        Summary("hard-day", "After a hard day", "• What happened: a meeting", "r1"),
        SupervisorSuggestion(
            "Book someone?",
            firm=False,
            supervisors=(
                Supervisor("Team", "Anyone", booking_url="https://example.org/book"),
                Supervisor("Email", "Anyone", email="help@example.org"),
            ),
            agenda="Supervision agenda\n1. The rota & me",
        ),
    ]
    (blocks,) = _dicts(replies)
    words = json.dumps(blocks)
    assert "Hello &lt;there&gt; &amp; welcome" in words, "mrkdwn is escaped"
    assert "mailto:help@example.org?subject=" in words
    # The agenda (the leader's own words) fills in the email only on the Home tab: a message
    # stays in the Slack history.
    assert "The%20rota" not in words and "rota" not in words
    book = [e for b in blocks if b.get("accessory") for e in [b["accessory"]] if e.get("url")]
    assert book[0]["url"] == "https://example.org/book"


def test_a_signpost_goes_first_in_its_own_message() -> None:
    signpost = Signpost("Support is here", (Resource("Samaritans", "Call 116 123", "any time"),))
    posts = _dicts([Say("Noted."), _question("text"), signpost])
    assert posts[0][0]["type"] == "header"
    assert "116 123" in json.dumps(posts[0])
    assert "116 123" not in json.dumps(posts[1:])


def test_a_summary_is_announced_with_a_read_button_never_posted() -> None:
    text = "\n".join(f"• Line {i}: the ward, again " + "word " * 40 for i in range(200))
    posts = compose([Summary("f", "Flow", text, "r1")], owner=OWNER)
    words = json.dumps([[b.to_dict() for b in post.blocks] for post in posts])
    assert "the ward, again" not in words and "the ward" not in posts[0].text
    (read,) = [e for post in _dicts([Summary("f", "Flow", text, "r1")]) for e in _controls(post)]
    assert (read["action_id"], read["value"]) == ("read_reflection", "r1")


def test_a_long_summary_opens_in_a_modal_split_into_sections_that_fit() -> None:
    import datetime as dt

    from bot.engine.reflections import StoredReflection
    from bot.slack.listeners.home import reflection_view

    text = "\n".join(f"• Line {i}: " + "word " * 40 for i in range(60))
    at = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    view = reflection_view(StoredReflection("r1", "f", at, at, text), title="Flow").to_dict()
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections) and len(view["blocks"]) <= 100
    assert " ".join(" ".join(sections).split()) == " ".join(text.split())


def test_no_notification_text_carries_what_a_prompt_or_reply_says() -> None:
    question = Question(
        flow_id="hard-day",
        flow_title="After a hard day",
        step_id="again",
        step_kind="text",
        text="You said the ward manager shouted. What now?",
        position=3,
    )
    replies: list[Reply] = [Say("You said the ward manager shouted."), question]
    (post,) = compose(replies, owner=OWNER)
    assert "ward" not in post.text and "question 3" in post.text
    (post,) = compose([Say("Noted: the ward manager shouted.")], owner=OWNER)
    assert "ward" not in post.text


def test_more_than_fifty_blocks_become_several_messages() -> None:
    posts = _dicts([Say(f"Paragraph {i}") for i in range(120)])
    assert [len(p) for p in posts] == [50, 50, 20]


def test_a_choice_with_few_options_has_buttons_and_long_labels_are_shortened() -> None:
    (blocks,) = _dicts([_question("choice", options=4)])
    buttons = _controls(blocks)
    assert [b["type"] for b in buttons] == ["button"] * 4
    assert all(len(b["text"]["text"]) <= 75 for b in buttons)
    assert len({b["action_id"] for b in buttons}) == 4, "action ids are unique in a block"


def test_a_choice_with_many_options_has_a_select() -> None:
    (blocks,) = _dicts([_question("choice", options=25)])
    (select,) = _controls(blocks)
    assert select["type"] == "static_select" and len(select["options"]) == 25


def test_multi_choice_has_checkboxes_or_a_multi_select_and_done() -> None:
    (few,) = _dicts([_question("multi", options=5)])
    assert [e["type"] for e in _controls(few)] == ["checkboxes", "button"]
    (many,) = _dicts([_question("multi", options=20)])
    assert [e["type"] for e in _controls(many)] == ["multi_static_select", "button"]


def test_a_scale_has_a_button_per_point_and_its_labels() -> None:
    question = _question("scale", scale=Scale(0, 10, "not at all", "completely"))
    (blocks,) = _dicts([question])
    assert [b["value"] for b in _controls(blocks)] == [str(n) for n in range(11)]
    assert "0 = not at all · 10 = completely" in json.dumps(blocks, ensure_ascii=False)


def test_scale_buttons_carry_their_words_and_accessibility_labels() -> None:
    points = ("light", "a little heavy", "quite heavy", "heavy", "very heavy")
    question = _question("scale", scale=Scale(1, 5, "light", "very heavy", points=points))
    (blocks,) = _dicts([question])
    buttons = _controls(blocks)
    assert [b["value"] for b in buttons] == ["1", "2", "3", "4", "5"]
    for button, word in zip(buttons, points, strict=True):
        value = button["value"]
        assert button["text"]["text"] == copy.text("question.scale_point", value=value, word=word)
        spoken = copy.text("question.scale_spoken", value=value, max=5, word=word)
        assert button["accessibility_label"] == spoken
    # With words on every button, no legend is needed in small print.
    assert not any(b["type"] == "context" and "=" in json.dumps(b) for b in blocks)


def test_a_question_block_id_names_owner_flow_and_step() -> None:
    question = _question("choice", options=2)
    value = block_id(question, owner=OWNER)
    assert len(value) <= 255
    asked = read_block_id(value)
    assert asked is not None
    assert (asked.owner, asked.flow_id, asked.step_id) == (OWNER, "hard-day", "step_one")
    assert read_block_id("something-else") is None


@given(st.text(alphabet=st.sampled_from("ab \n"), max_size=20_000))
def test_split_text_fits_and_keeps_every_word(text: str) -> None:
    pieces = split_text(text, limit=3000)
    assert all(0 < len(piece) <= 3000 for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_a_reflection_too_long_for_a_modal_is_cut_to_fit_the_view_limits() -> None:
    import datetime as dt

    from bot.engine.reflections import StoredReflection
    from bot.slack.views.home import reflection_view

    at = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    huge = StoredReflection("r1", "f", at, at, summary="long words " * 40_000)
    view = reflection_view(huge, title="A very long reflection")
    data = view.to_dict()
    assert len(data["blocks"]) <= 100
    assert len(json.dumps(data).encode()) <= 250_000
    from bot.slack.views import copy

    assert copy.text("home.cut") in json.dumps(data["blocks"][-1])


def test_a_long_agenda_is_shortened_so_the_booking_email_link_stays_whole() -> None:
    from bot.slack.views.booking import MOST_LINK, mailto

    agenda = "Supervision agenda\n" + "\n".join(f"{n}. " + "é & words " * 40 for n in range(30))
    link = mailto("team@trust.nhs.uk", agenda=agenda)
    assert link.startswith("mailto:team@trust.nhs.uk?subject=") and len(link) <= MOST_LINK
    assert "Supervision%20agenda" in link
