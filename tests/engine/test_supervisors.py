"""The supervisor directory: a checked format, file:line problems, no placeholder shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.supervisors import SupervisorsError, load_directory, parse_directory
from bot.runtime import build_conversations
from bot.settings import Settings
from tests.conftest import ROOT
from tests.engine.config_files import ENTRY
from tests.fakes import MemoryStore


def test_the_shipped_directory_is_complete_and_has_no_placeholder() -> None:
    directory = load_directory(ROOT / "config" / "supervisors.yaml")
    assert directory.supervisors and not directory.warnings
    for supervisor in directory.supervisors:
        assert supervisor.for_whom and supervisor.sectors and supervisor.nations
        assert supervisor.cost and supervisor.format and supervisor.eligibility
        assert supervisor.wait and supervisor.confidentiality
        assert supervisor.booking_url or supervisor.email
        assert (supervisor.booking_url or "").startswith(("https://", ""))


def test_an_entry_reads_into_every_field() -> None:
    (entry,) = parse_directory(ENTRY.format(email="supervision@trust.nhs.uk")).supervisors
    assert entry.name == "Trust supervision team" and entry.for_whom == "Ward managers"
    assert (entry.sectors, entry.nations) == (("health",), ("England",))
    assert entry.email == "supervision@trust.nhs.uk" and entry.booking_url is None


@pytest.mark.parametrize(
    "email", ["supervision@example.org", "someone@example.com", "todo@trust.nhs.uk"]
)
def test_a_placeholder_is_left_out_with_a_warning_naming_its_line(email: str) -> None:
    directory = parse_directory(ENTRY.format(email=email), source="supervisors.yaml")
    assert directory.supervisors == ()
    (warning,) = directory.warnings
    assert warning.startswith("supervisors.yaml:2: ") and email in warning


def test_every_problem_is_reported_with_its_line() -> None:
    insecure = ENTRY.replace("email: {email}", "booking_url: http://insecure.nhs.uk/book")
    text = insecure + "  - name: Another\n    for: Heads\n    colour: blue\n"
    with pytest.raises(SupervisorsError) as error:
        parse_directory(text, source="supervisors.yaml")
    message = str(error.value)
    assert "supervisors.yaml:2: supervisors.0: " in message and "https://" in message
    assert "supervisors.yaml:14: supervisors.1.colour: unknown key" in message
    for missing in ("sectors", "cost", "wait", "confidentiality"):
        assert f"supervisors.1.{missing}: Field required" in message


def test_a_name_listed_twice_and_broken_yaml_are_clear_errors(tmp_path: Path) -> None:
    twice = ENTRY.format(email="a@trust.nhs.uk") + ENTRY.format(email="b@trust.nhs.uk")[13:]
    with pytest.raises(SupervisorsError, match="listed twice"):
        parse_directory(twice)
    with pytest.raises(SupervisorsError, match=r"broken.yaml:\d+: not valid YAML"):
        broken = tmp_path / "broken.yaml"
        broken.write_text("supervisors:\n  - [unclosed\n", encoding="utf-8")
        load_directory(broken)
    with pytest.raises(SupervisorsError, match="cannot read the supervisors file"):
        load_directory(tmp_path / "absent.yaml")
    assert parse_directory("# nobody yet\n").supervisors == ()


def test_start_up_warns_about_a_placeholder_and_shows_nothing_of_it(tmp_path: Path) -> None:
    path = tmp_path / "supervisors.yaml"
    path.write_text(
        ENTRY.format(email="supervision@example.org")
        + ENTRY.format(email="real@trust.nhs.uk")[13:].replace("Trust supervision", "Real"),
        encoding="utf-8",
    )
    warnings: list[str] = []
    conversations = build_conversations(
        settings=Settings(supervisors_file=path), store=MemoryStore(), warn=warnings.append
    )
    names = [s.name for s in conversations.suggestions.supervisors]
    assert names == ["Real team"]
    assert any("example.org" in warning and str(path) in warning for warning in warnings)


def test_start_up_warns_about_a_suggested_flow_that_is_not_there(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    source = (ROOT / "flows" / "weekly-checkin.yaml").read_text(encoding="utf-8")
    (flows / "weekly-checkin.yaml").write_text(source, encoding="utf-8")
    warnings: list[str] = []
    build_conversations(
        settings=Settings(flows_dir=flows, default_flow="weekly-checkin"),
        store=MemoryStore(),
        warn=warnings.append,
    )
    assert any("suggests 'hard-day'" in warning for warning in warnings)
