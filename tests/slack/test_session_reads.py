"""Each request reads (decrypts) the person's session once, however many times the engine and
the listener look at it during the step (bot.engine.step_memo)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store import rows
from tests.slack.harness import Leader


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    real = rows.read_session

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(rows, "read_session", counting)
    return counted


def test_a_typed_answer_decrypts_the_session_once(sam: Leader, reads: list[int]) -> None:
    sam.says("hard day")
    for answer in ("A long day on the ward", "3"):
        reads.clear()
        sam.says(answer)
        assert len(reads) == 1, answer


def test_a_clicked_answer_decrypts_the_session_once(sam: Leader, reads: list[int]) -> None:
    sam.says("hard day")
    sam.says("A long day on the ward")
    reads.clear()
    sam.clicks("3")
    assert len(reads) == 1
