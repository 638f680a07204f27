from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.engine.conversation import Conversations
from bot.engine.flows import Flow
from bot.engine.library import FlowLibrary
from bot.engine.signposts import load_signposts
from tests.fakes import FakeClock, MemoryStore

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.UTC)


def flow_base() -> dict[str, Any]:
    """Everything a flow file needs but its steps: a test adds (or replaces) what it is about."""
    return {
        "schema_version": 1,
        "id": "sample",
        "title": "Sample",
        "description": "A flow for tests.",
        "area": "self",
        "minutes": 3,
        "meta": {"author": "tests", "draws_on": ["nothing"], "last_reviewed": "2026-11-22"},
        "intro": "Hello.",
        "summary": "Done.",
    }


def flow_from(data: dict[str, Any]) -> Flow:
    return Flow.model_validate(flow_base() | data)


def options_step(step_id: str, kind: str, prompt: str, options: dict[str, str]) -> dict[str, Any]:
    """A test flow's choice or multi step, its options given as {value: label}."""
    listed = [{"value": value, "label": label} for value, label in options.items()]
    return {"id": step_id, "kind": kind, "prompt": prompt, "options": listed}


def energy_scale(**more: Any) -> dict[str, Any]:
    """A test flow's scale step "energy", from empty to full, whose heavy end is its minimum
    (`more`: its other fields, e.g. where it goes next)."""
    scale = {"id": "energy", "kind": "scale", "heavy": "min", "prompt": "Energy?"}
    return scale | {"labels": {"min": "empty", "max": "full"}} | more


@pytest.fixture
def hard_day() -> Flow:
    return Flow.model_validate(yaml.safe_load((ROOT / "flows" / "hard-day.yaml").read_text()))


class Clock(FakeClock):
    """The fake clock, at NOW unless told otherwise."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        super().__init__(now)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def conversations(hard_day: Flow, store: MemoryStore, clock: Clock) -> Conversations:
    other = flow_from(
        {
            "id": "tiny",
            "title": "A tiny one",
            "keywords": ["tiny"],
            "steps": [
                {
                    "id": "mood",
                    "kind": "scale",
                    "prompt": "Mood?",
                    "heavy": "min",
                    "labels": {"min": "low", "max": "high"},
                },
                {"id": "note", "kind": "text", "prompt": "Anything else?", "optional": True},
            ],
            "summary": "Mood {{ mood }}.",
        }
    )
    return Conversations(
        library=FlowLibrary([hard_day, other]),
        store=store,
        signposts=load_signposts(ROOT / "config" / "signposts.yaml"),
        clock=clock,
    )


#: PostgreSQL fixtures (a throwaway server per session) and the fake Slack, for any test folder.
pytest_plugins = ["tests.pg_fixtures", "tests.slack.fixtures"]
