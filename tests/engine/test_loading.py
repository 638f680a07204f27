"""Loading flows: every mistake a flow author makes is found at once, at its file and line,
and named with the flow, the step and what to fix. A broken file never stops the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.authoring.loading import FlowError, FlowProblem, flow_files, load_flow, load_library
from bot.engine.flows import Flow

BROKEN = Path(__file__).parent / "broken_flows"

HEADER = """\
schema_version: 1
id: {flow_id}
title: Sample
description: A flow for tests.
area: self
minutes: 3
meta: {{author: tests, draws_on: [nothing], last_reviewed: 2026-11-22}}
intro: Hello.
"""

SOUND_STEPS = """\
steps:
  - id: energy
    kind: scale
    heavy: max
    prompt: How is your energy?
    labels: {min: low, max: high}
    store: yes
  - id: note
    kind: text
    prompt: Anything else?
summary: Energy {{ energy }}.
"""


def write(folder: Path, body: str, *, flow_id: str = "sample", name: str | None = None) -> Path:
    path = folder / (name or f"{flow_id}.yaml")
    path.write_text(HEADER.format(flow_id=flow_id) + body, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[FlowProblem]:
    loaded = load_library([path], default="sample")
    assert len(loaded.library) == 0, "a flow with problems must be refused"
    assert loaded.problems, "expected problems"
    return loaded.problems


# (file, line, step id, fragments the message must contain)
CASES = [
    (
        "unknown_key.yaml",
        17,
        "note",
        ["unknown key 'promt'", "Did you mean 'prompt'?", "allowed here: id, prompt"],
    ),
    ("unknown_key.yaml", 15, "note", ["missing 'prompt'", "required"]),
    ("missing_field.yaml", 10, "energy", ["missing 'labels'", "labels: {min:"]),
    ("wrong_type.yaml", 14, "energy", ["max:", "valid integer", "'lots'"]),
    ("duplicate_step.yaml", 15, "energy", ["'energy' is already used by step 1"]),
    (
        "next_nowhere.yaml",
        15,
        "energy",
        ["next points to 'restor', which is not a step", "steps are: energy, restore", "'end'"],
    ),
    ("next_nowhere.yaml", 15, "energy", ["Did you mean 'restore'?"]),
    ("unreachable.yaml", 16, "restore", ["can never be reached"]),
    ("bad_condition.yaml", 16, "energy", ["branch 1", "'energy <='", "cannot be read"]),
    (
        "condition_later.yaml",
        16,
        "energy",
        ["names 'restore', which comes later", "answers given by now"],
    ),
    ("condition_later.yaml", 16, "energy", ["names 'enrgy', which is not a step", "'energy'?"]),
    ("template_syntax.yaml", 19, "restore", ["prompt template does not compile", "endif"]),
    ("template_names.yaml", 13, "energy", ["uses 'frist_name'", "Did you mean 'first_name'?"]),
    ("template_names.yaml", 17, "restore", ["uses 'later', which is asked later"]),
    ("template_names.yaml", 23, None, ["summary uses 'restores'", "Did you mean 'restore'?"]),
    ("summary_never.yaml", 19, None, ["summary quotes 'worry'", "store: never"]),
    ("scale_range.yaml", 14, "energy", ["min 5 to max 1", "min must be less than max"]),
    ("options.yaml", 15, "need", ["option 2: missing 'value'"]),
    ("options.yaml", 16, "need", ["option 3 has the value 'rest', like option 1"]),
    ("options.yaml", 17, "need", ["option 4 ('later')", "pause"]),
    ("context_clash.yaml", 10, "first_name", ["'first_name' is a name every template"]),
    ("else_not_last.yaml", 17, "energy", ["branch 2 comes after the else", "put the else last"]),
    ("rehearsal_unknown.yaml", 19, None, ["rehearsal 1 expects the step 'restore'"]),
    ("going_back.yaml", 18, "restore", ["points back to 'energy'", "only goes forward"]),
    ("branch_shape.yaml", 16, "energy", ["unknown key 'else'", "branch of its own"]),
    ("step_kind.yaml", 10, "energy", ["kind 'slider' is not a step kind", "text, choice"]),
    ("step_kind.yaml", 13, "restore", ["missing 'kind'"]),
    ("duplicate_key.yaml", 15, "energy", ["'prompt' appears twice (first on line 13)"]),
]


@pytest.mark.parametrize(("name", "line", "step_id", "fragments"), CASES)
def test_each_mistake_names_its_file_line_flow_and_step(
    name: str, line: int, step_id: str | None, fragments: list[str]
) -> None:
    path = BROKEN / name
    problems = problems_of(path)
    matching = [p for p in problems if all(f in p.message for f in fragments)]
    assert matching, "no problem says " + repr(fragments) + ":\n" + "\n".join(map(str, problems))
    problem = matching[0]
    flow_id = name.removesuffix(".yaml").replace("_", "-")
    assert (problem.file, problem.line, problem.flow_id, problem.step_id) == (
        path,
        line,
        flow_id,
        step_id,
    )
    about = f"flow '{flow_id}', step '{step_id}'" if step_id else f"flow '{flow_id}'"
    assert str(problem) == f"{path}:{line}: {about}: {problem.message}"


@pytest.mark.parametrize(
    ("name", "line", "fragment"),
    [
        ("yaml_syntax.yaml", 6, "indent with spaces, not tabs"),
        ("yaml_quote.yaml", 5, "it began on line 3"),
        ("not_a_mapping.yaml", 1, "a flow file is a mapping of keys"),
        ("empty.yaml", None, "the file is empty"),
    ],
)
def test_a_file_that_is_not_a_flow_gives_file_and_line_not_a_traceback(
    name: str, line: int | None, fragment: str
) -> None:
    (problem,) = problems_of(BROKEN / name)
    assert problem.line == line and fragment in problem.message
    assert str(problem).startswith(f"{BROKEN / name}:{line}: " if line else f"{BROKEN / name}: ")


def test_every_problem_in_a_file_is_reported_at_once_in_line_order() -> None:
    problems = problems_of(BROKEN / "many_problems.yaml")
    said = "\n".join(map(str, problems))
    for fragment in (
        "the key 'area' appears twice",
        "area must be 'self'",
        "not 'selff'. Did you mean 'self'?",
        "unknown key 'colour'",
        "next points to 'restor'",
        "'energy' is already used by step 1",
        "can never be reached",
        "summary uses 'enrgy'",
    ):
        assert fragment in said, said
    lines = [p.line or 0 for p in problems]
    assert lines == sorted(lines)


def test_a_broken_file_does_not_stop_the_others_loading(tmp_path: Path) -> None:
    good = write(tmp_path, SOUND_STEPS, flow_id="good")
    also_good = write(tmp_path, SOUND_STEPS, flow_id="also-good")
    loaded = load_library(
        [good, BROKEN / "next_nowhere.yaml", BROKEN / "yaml_syntax.yaml", also_good],
        default="good",
    )
    assert sorted(flow.id for flow in loaded.library) == ["also-good", "good"]
    assert loaded.library.default == "good"
    assert {p.file.name for p in loaded.problems} == {"next_nowhere.yaml", "yaml_syntax.yaml"}
    assert loaded.sources == {"good": good, "also-good": also_good}


def test_a_flow_id_used_by_two_files_refuses_the_later_one(tmp_path: Path) -> None:
    first = write(tmp_path, SOUND_STEPS, name="first.yaml")
    second = write(tmp_path, SOUND_STEPS, name="second.yaml")
    loaded = load_library([first, second], default="sample")
    assert [flow.id for flow in loaded.library] == ["sample"]
    assert loaded.sources["sample"] == first
    (problem,) = loaded.problems
    assert (problem.file, problem.line, problem.flow_id) == (second, 2, "sample")
    assert f"already used by {first}" in problem.message


def test_a_sound_flow_loads_with_yaml_yes_read_as_meant(tmp_path: Path) -> None:
    flow = load_flow(write(tmp_path, SOUND_STEPS))
    assert isinstance(flow, Flow)
    assert flow.step("energy").store == "yes"  # PyYAML reads the bare word yes as True


def test_load_flow_raises_with_every_problem(tmp_path: Path) -> None:
    with pytest.raises(FlowError) as raised:
        load_flow(BROKEN / "many_problems.yaml")
    assert len(raised.value.problems) >= 7
    assert str(raised.value).count("many_problems.yaml:") == len(raised.value.problems)


def test_an_unreadable_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))
    (problem,) = problems_of(path)
    assert "not UTF-8" in problem.message


def test_folders_are_searched_for_yaml_files_and_missing_paths_reported(tmp_path: Path) -> None:
    write(tmp_path, SOUND_STEPS, name="b.yaml")
    write(tmp_path, SOUND_STEPS, name="a.yml")
    (tmp_path / "notes.txt").write_text("not a flow")
    files, problems = flow_files([tmp_path, tmp_path / "gone.yaml"])
    assert [f.name for f in files] == ["a.yml", "b.yaml"]
    (problem,) = problems
    assert problem.file == tmp_path / "gone.yaml" and "no such file" in problem.message


# ---------------------------------------------------------------------------------------- rules


#: The start of a flow's steps: one text step, `energy`, to which a test adds its keys.
ENERGY = "steps:\n  - id: energy\n    kind: text\n    prompt: How?\n"
#: The start of a flow's steps: a multiple choice step, `pick`, to which a test adds options.
PICK_UP_TO_3 = (
    "steps:\n  - id: pick\n    kind: multi\n    prompt: Which?\n    max_choices: 3\n    options:\n"
)


def only_problem(tmp_path: Path, steps: str, **extra: str) -> FlowProblem:
    body = steps + "".join(f"{key}: {value}\n" for key, value in extra.items())
    if "summary" not in extra:
        body += "summary: Done.\n"
    problems = problems_of(write(tmp_path, body))
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def _only_problem_of_sound_steps(tmp_path: Path, **extra: str) -> FlowProblem:
    """The one problem of the sound steps (summary kept) with `extra` top-level keys."""
    steps = SOUND_STEPS.replace("summary: Energy {{ energy }}.\n", "")
    return only_problem(tmp_path, steps, summary="Energy {{ energy }}.", **extra)


def test_a_next_that_is_neither_text_nor_a_list_gets_one_clear_message(tmp_path: Path) -> None:
    problem = only_problem(
        tmp_path,
        ENERGY + "    next: 5\n",
    )
    assert problem.message.startswith("next must be a step id, 'end', or a list of branches")
    assert problem.line == 13


def test_a_branch_with_neither_if_nor_else_gets_one_clear_message(tmp_path: Path) -> None:
    problem = only_problem(
        tmp_path,
        ENERGY + "    next:\n      - {goto: end}\n",
    )
    assert "branch 1" in problem.message and "neither 'if' nor 'else'" in problem.message
    assert problem.line == 14


def test_a_branch_without_then_says_so(tmp_path: Path) -> None:
    problem = only_problem(
        tmp_path,
        ENERGY + "    next:\n      - {if: \"energy == 'x'\"}\n",
    )
    assert "has 'if' but no 'then'" in problem.message


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("mood == True", "write it in lower case (true)"),
        ("intro_note == 'x'", "an info step, which has no answer"),
    ],
)
def test_conditions_use_lower_case_words_and_answered_steps(
    tmp_path: Path, expression: str, fragment: str
) -> None:
    problem = only_problem(
        tmp_path,
        f"""steps:
  - id: intro_note
    kind: info
    prompt: A moment for you.
  - id: mood
    kind: text
    prompt: How?
    next:
      - if: {expression}
        then: end
  - id: more
    kind: text
    prompt: More?
""",
    )
    assert fragment in problem.message and problem.step_id == "mood"


def test_a_condition_may_name_the_step_it_is_on(tmp_path: Path) -> None:
    flow = load_flow(
        write(
            tmp_path,
            """steps:
  - id: energy
    kind: scale
    heavy: max
    prompt: How?
    labels: {min: low, max: high}
    next: [{if: "energy <= 2", then: restore}, {else: end}]
  - id: restore
    kind: text
    prompt: What restores you, after {{ energy }}?
summary: "{{ energy }} {{ restore }}"
""",
        )
    )
    assert [step.id for step in flow.steps] == ["energy", "restore"]


def test_the_intro_cannot_quote_answers(tmp_path: Path) -> None:
    path = write(tmp_path, SOUND_STEPS)
    path.write_text(path.read_text().replace("intro: Hello.", "intro: Hello {{ note }}."))
    (problem,) = problems_of(path)
    assert "the intro uses 'note'" in problem.message and problem.line == 8


def test_help_is_checked_like_a_prompt(tmp_path: Path) -> None:
    problem = only_problem(
        tmp_path,
        ENERGY + '    help: "Think of {{ nope }}"\n',
    )
    assert "the help uses 'nope'" in problem.message and problem.line == 13


@pytest.mark.parametrize("step_id", ["none", "loop"])
def test_a_step_id_cannot_be_a_reserved_word(tmp_path: Path, step_id: str) -> None:
    problem = only_problem(
        tmp_path, f"steps:\n  - id: {step_id}\n    kind: text\n    prompt: How?\n"
    )
    assert "reserved word" in problem.message and problem.step_id == step_id


def test_options_a_leader_could_not_type_are_found(tmp_path: Path) -> None:
    body = (
        PICK_UP_TO_3
        + '      - {value: "2", label: Two}\n'
        + "      - {value: one, label: Same}\n"
        + "      - {value: three, label: same}\n"
        + "summary: Done.\n"
    )
    said = "\n".join(p.message for p in problems_of(write(tmp_path, body)))
    assert "option 1 has the value '2', but typing 2 chooses option 2" in said
    assert "option 3 has the same label as option 2" in said
    assert "max_choices is 3 but there are only 3 options" not in said


def test_more_choices_than_options_is_a_problem(tmp_path: Path) -> None:
    problem = only_problem(
        tmp_path,
        PICK_UP_TO_3 + "      - {value: one, label: One}\n      - {value: two, label: Two}\n",
    )
    assert "max_choices is 3 but there are only 2 options" in problem.message


def test_an_empty_next_list_is_a_problem(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, ENERGY + "    next: []\n")
    assert "next is an empty list" in problem.message


def test_a_rehearsal_input_that_yaml_reads_as_a_number_must_be_quoted(tmp_path: Path) -> None:
    problem = _only_problem_of_sound_steps(tmp_path, tests='[{name: low, inputs: [1, "fine"]}]')
    assert 'write it in quotes, like "1"' in problem.message


CHOICE = """steps:
  - id: need
    kind: choice
    prompt: What would help?
    options:
      - {value: rest, label: Rest and switch off}
      - {value: talk, label: Talk it through}
"""


#: A condition sees a choice's option values, a template its labels: comparing either with
#: the other (or with a typo) is pointed at, at the step and line where it is written.
WRONG_COMPARISONS = {
    "a condition with a label": (
        "    next: [{if: 'need == \"Talk it through\"', then: end}]\n",
        "an option's label; conditions see the option's value, so write 'talk'",
    ),
    "a condition with a typo": (
        '    next: [{if: \'need in ["rest", "tlak"]\', then: end}]\n',
        "'tlak', which is not one of its option values (rest, talk). Did you mean 'talk'?",
    ),
    "a template with a value": (
        "{% if need == 'talk' %}Who?{% endif %}",
        "compares 'need' with 'talk', an option value; templates see the option's label, "
        "so compare with 'Talk it through'",
    ),
    "a template with a wrong label": (
        "{% if need in ['Rest', 'Talk it through'] %}Who?{% endif %}",
        "compares 'need' with 'Rest', which is not one of its option labels",
    ),
}


@pytest.mark.parametrize("case", WRONG_COMPARISONS)
def test_a_choice_compared_with_the_wrong_thing_is_pointed_at(tmp_path: Path, case: str) -> None:
    written, fragment = WRONG_COMPARISONS[case]
    if case.startswith("a condition"):
        tail, where = written + "  - id: more\n    kind: text\n    prompt: More?\n", ("need", 16)
    else:
        tail, where = f'  - id: more\n    kind: text\n    prompt: "{written}"\n', ("more", 18)
    problem = only_problem(tmp_path, CHOICE + tail)
    assert fragment in problem.message and (problem.step_id, problem.line) == where


def test_comparing_with_the_right_things_is_fine(tmp_path: Path) -> None:
    flow = load_flow(
        write(
            tmp_path,
            CHOICE
            + '    next: [{if: \'need in ["rest", "talk"]\', then: more}]\n'
            + "  - id: more\n    kind: text\n"
            + "    prompt: \"{% if need == 'Talk it through' %}Who with?{% endif %}\"\n"
            + "summary: Done.\n",
        )
    )
    assert flow.id == "sample"


def test_a_keyword_that_is_a_command_word_is_a_problem(tmp_path: Path) -> None:
    problem = _only_problem_of_sound_steps(tmp_path, keywords="[rough day, Carry on]")
    assert problem.message.startswith("the keyword 'Carry on' is what a leader types to resume")
    assert problem.flow_id == "sample" and problem.step_id is None and problem.line == 20
