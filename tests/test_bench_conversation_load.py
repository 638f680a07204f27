"""The conversation-load benchmark's own logic, without processes: which post is the reply to a
typed answer, a script that gives every event an id of its own, and putting its section into
BENCHMARKS.md without touching the others."""

from __future__ import annotations

import json
from pathlib import Path

from bench import conversation_load, report


def test_the_reply_is_the_first_post_asking_the_next_step_after_the_answer() -> None:
    answers = [("DU1", 10.0, "weight"), ("DU1", 20.0, "weight"), ("DU2", 10.0, "weight")]
    posts = [
        ("DU1", 9.0, ["q|x|hard-day|weight"]),  # before the answer: an earlier round's
        ("DU1", 10.4, ["", "q|x|hard-day|what_happened"]),
        ("DU1", 10.7, ["", "q|x|hard-day|weight"]),
        ("DU1", 21.5, ["q|x|hard-day|weight"]),
        ("DU2", 12.0, ["q|x|hard-day|landed"]),
    ]
    waits, unanswered = conversation_load._replies(answers, posts)
    assert [round(wait, 3) for wait in waits] == [0.7, 1.5]
    assert unanswered == 1


def test_each_round_of_the_script_has_fresh_event_ids() -> None:
    first, again = (conversation_load.leader_script("U00001") for _ in range(2))
    ids = [
        json.loads(request.body)["event_id"]
        for request in (*first, *again)
        if request.kind == "event"
    ]
    assert len(ids) == len(set(ids)) == 4
    assert first[conversation_load.ANSWER_AT].kind == "event"


def test_the_section_replaces_its_earlier_self_only(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## 6. Other\n\nkept\n\n## Notes\n\nnotes\n", encoding="utf-8")
    report.put_section(path, conversation_load.SECTION, "first figures")
    report.put_section(path, conversation_load.SECTION, "second figures")
    text = path.read_text(encoding="utf-8")
    assert "first figures" not in text and text.count(conversation_load.SECTION) == 1
    assert text.index("kept") < text.index("second figures") < text.index("## Notes")
    assert text.endswith("## Notes\n\nnotes\n")
