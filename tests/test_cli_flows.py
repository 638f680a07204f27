"""`reflect flows list | check | test | schema`, driven in-process with click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.commands.flows import command
from bot.engine.flows import json_schema

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "engine" / "broken_flows"

FLOW = """\
schema_version: 1
id: {flow_id}
title: {title}
description: A flow for tests.
area: {area}
minutes: {minutes}
meta: {{author: tests, draws_on: [nothing], last_reviewed: 2026-11-22}}
intro: Hello.
steps:
  - id: energy
    kind: scale
    heavy: max
    prompt: How is your energy?
    labels: {{min: low, max: high}}
summary: Energy {{{{ energy }}}}.
tests:
  - name: low energy
    inputs: ["1"]
    expect_steps: [energy]
    expect_summary: ["{expected}"]
"""


def flow_file(
    folder: Path,
    flow_id: str,
    *,
    title: str = "Sample",
    area: str = "self",
    minutes: int = 3,
    expected: str = "Energy 1",
) -> Path:
    path = folder / f"{flow_id}.yaml"
    path.write_text(
        FLOW.format(flow_id=flow_id, title=title, area=area, minutes=minutes, expected=expected),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    folder = tmp_path / "flows"
    folder.mkdir()
    flow_file(folder, "hard-day", title="After a hard day", area="debrief")
    flow_file(folder, "weekly", title="Weekly check-in", area="checkin", minutes=2)
    return folder


def run(*args: str, flows_dir: Path | None = None, default: str = "hard-day") -> Result:
    env = {"REFLECT_DEFAULT_FLOW": default}
    if flows_dir is not None:
        env["REFLECT_FLOWS_DIR"] = str(flows_dir)
    return CliRunner().invoke(command, list(args), env=env)


def test_list_shows_id_area_minutes_and_title_default_first(flows_dir: Path) -> None:
    result = run("list", flows_dir=flows_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "hard-day  debrief   3 min  After a hard day  (default)",
        "weekly    checkin   2 min  Weekly check-in",
    ]


def test_list_leaves_out_a_broken_flow_and_says_so(flows_dir: Path) -> None:
    (flows_dir / "broken.yaml").write_text("id: broken\nsteps: [\n", encoding="utf-8")
    result = run("list", flows_dir=flows_dir)
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["hard-day", "weekly"]
    assert "1 flow file could not be loaded; run `reflect flows check`" in result.stderr


def test_list_takes_paths(flows_dir: Path) -> None:
    result = run("list", str(flows_dir / "weekly.yaml"), flows_dir=flows_dir)
    assert result.stdout.splitlines() == ["weekly  checkin   2 min  Weekly check-in  (default)"]


def test_check_passes_sound_flows_with_one_line(flows_dir: Path) -> None:
    result = run("check", flows_dir=flows_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout == "OK: 2 flows checked in 2 files, no problems.\n"


def test_check_prints_every_problem_as_file_line_and_exits_1() -> None:
    files = [str(BROKEN / "next_nowhere.yaml"), str(BROKEN / "yaml_syntax.yaml")]
    result = run("check", *files)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"{files[0]}:15: flow 'next-nowhere', step 'energy': next points to 'restor', which is "
        "not a step (steps are: energy, restore; or 'end' to finish). Did you mean 'restore'?",
        f"{files[0]}:16: flow 'next-nowhere', step 'restore': this step can never be reached: "
        "no route from the first step leads to it; point a next (or a branch's then/else) at "
        "it, or remove it",
        f"{files[1]}:6: this is not valid YAML: while scanning for the next token found "
        "character '\\t' that cannot start any token; indent with spaces, not tabs",
    ]
    assert result.stderr == "3 problems in 2 files.\n"
    assert "Traceback" not in result.output


def test_check_a_folder_of_broken_flows_never_tracebacks() -> None:
    result = run("check", str(BROKEN))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert all(line.startswith(str(BROKEN)) for line in result.stdout.splitlines())
    assert "Traceback" not in result.output


def test_check_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_check_says_when_the_default_flow_is_missing(flows_dir: Path) -> None:
    result = run("check", flows_dir=flows_dir, default="gone")
    assert result.exit_code == 1
    assert f"{flows_dir}: the default flow 'gone' (REFLECT_DEFAULT_FLOW)" in result.stdout


def test_check_an_empty_folder_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("check", flows_dir=tmp_path)
    assert result.exit_code == 1
    assert "no flow files (*.yaml) here" in result.stdout


def test_test_runs_the_rehearsals(flows_dir: Path) -> None:
    result = run("test", flows_dir=flows_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "ok    hard-day: low energy",
        "ok    weekly: low energy",
        "2 rehearsals passed, 0 failed.",
    ]


def test_test_fails_on_a_rehearsal_that_fails_and_says_why(flows_dir: Path) -> None:
    flow_file(flows_dir, "weekly", area="checkin", expected="Energy 5")
    result = run("test", flows_dir=flows_dir)
    assert result.exit_code == 1
    assert "FAIL  weekly: low energy" in result.stdout
    assert "        the summary does not contain 'Energy 5'" in result.stdout
    assert result.stderr == "1 rehearsal passed, 1 failed.\n"


def test_test_counts_a_broken_flow_as_a_failure(flows_dir: Path) -> None:
    result = run("test", str(flows_dir), str(BROKEN / "scale_range.yaml"), flows_dir=flows_dir)
    assert result.exit_code == 1
    assert "scale_range.yaml:14:" in result.stdout
    assert result.stderr == "2 rehearsals passed, 0 failed; 1 problem in flow files.\n"


def test_schema_prints_the_json_schema(flows_dir: Path) -> None:
    result = run("schema", flows_dir=flows_dir)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()
    assert result.stdout == (ROOT / "flows" / "schema.json").read_text(encoding="utf-8")


def test_every_shipped_flow_passes_check_and_test(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    checked = run("check", flows_dir=ROOT / "flows")
    assert checked.exit_code == 0, checked.output
    tested = run("test", flows_dir=ROOT / "flows")
    assert tested.exit_code == 0, tested.output


RENDER_FLOW = """\
schema_version: 1
id: rendered
title: Rendered
description: A flow for tests.
area: self
minutes: 3
meta: {{author: tests, draws_on: [nothing], last_reviewed: 2026-11-22}}
intro: Hello.
steps:
  - id: what
    kind: text
    prompt: What happened?
  - id: energy
    kind: scale
    prompt: How is your energy?
    optional: true
    labels: {{min: low, max: high}}
summary: |
  You said {{{{ what }}}}.
  {summary}
"""


@pytest.mark.parametrize(
    ("summary", "says"),
    [
        pytest.param("{{ (10 ** 3000000) % 7 }}", "beyond what a template may compute", id="power"),
        pytest.param("{{ 'x' * 10**9 }}", "beyond what a template may compute", id="repeat"),
        pytest.param("{{ 'x'|center(10**9) }}", "beyond what a template may compute", id="center"),
        pytest.param("{{ energy + 1 }}", "fails when rendered with the optional", id="none"),
        pytest.param("{{ what.nothing.here }}", "fails when rendered", id="undefined"),
        pytest.param(
            "{% for a in range(999) %}{% for b in range(999) %}{% for c in range(999) %}"
            "{% endfor %}{% endfor %}{% endfor %}",
            "takes more than",
            id="slow",
        ),
        pytest.param(
            "{% for a in range(999) %}{{ what }}{% endfor %}", "more than the", id="outsized"
        ),  # no single line to blame: the summary itself
    ],
)
def test_check_refuses_a_template_that_fails_or_blows_the_budget_with_its_line(
    tmp_path: Path, summary: str, says: str
) -> None:
    path = tmp_path / "rendered.yaml"
    path.write_text(RENDER_FLOW.format(summary=summary), encoding="utf-8")
    result = run("check", str(path), default="rendered")
    assert result.exit_code == 1, result.output
    assert says in result.output
    line = 18 if says == "more than the" else 20
    assert f"{path}:{line}:" in result.output  # the summary (18), its second line (20)
    assert "Traceback" not in result.output
