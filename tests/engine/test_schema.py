"""flows/schema.json: generated from the models, kept current, and right about what editors see.

Editors (the YAML language server) read YAML 1.2, where `yes` is the text "yes" and a date is
text; PyYAML reads YAML 1.1, where `yes` is True. The schema must accept the first, the models
the second.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.commands.flows import schema_text
from bot.engine.flows import Flow, json_schema
from tests.conftest import flow_base

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "flows" / "schema.json"
FLOW_FILES = sorted((ROOT / "flows").glob("*.yaml"))


class EditorLoader(yaml.SafeLoader):
    """YAML as an editor reads it (1.2 core): only true/false are booleans; no dates."""


EditorLoader.yaml_implicit_resolvers = {
    first: [
        (tag, pattern)
        for tag, pattern in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
EditorLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def small_flow(**step: Any) -> dict[str, Any]:
    return flow_base() | {"steps": [{"id": "note", "kind": "text", "prompt": "Anything?", **step}]}


def test_the_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "flows/schema.json is out of date with bot/engine/flows.py: run `make schema`"
    )


def test_the_schema_text_is_sorted_pretty_json_with_a_final_newline() -> None:
    text = schema_text()
    assert text.endswith("}\n") and json.loads(text) == json_schema()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.name)
def test_every_shipped_flow_is_valid_as_an_editor_reads_it(path: Path) -> None:
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=EditorLoader)
    errors = [f"{list(e.path)}: {e.message}" for e in validator().iter_errors(document)]
    assert errors == []


def test_store_yes_is_accepted_as_editors_and_pyyaml_read_it() -> None:
    as_an_editor_reads_it = yaml.load("store: yes", Loader=EditorLoader)
    assert as_an_editor_reads_it == {"store": "yes"}
    validator().validate(small_flow(**as_an_editor_reads_it))
    as_pyyaml_reads_it = yaml.safe_load("store: yes")
    assert as_pyyaml_reads_it == {"store": True}
    assert Flow.model_validate(small_flow(**as_pyyaml_reads_it)).steps[0].store == "yes"


@pytest.mark.parametrize(
    "step",
    [
        {"promt": "typo"},
        {"store": "sometimes"},
        {"kind": "slider"},
        {"next": 5},
        {"next": [{"if": "x", "then": "end", "else": "end"}]},
    ],
    ids=["unknown key", "unknown store", "unknown kind", "next a number", "if with else"],
)
def test_the_schema_refuses_what_the_models_refuse(step: dict[str, Any]) -> None:
    document = small_flow(**step)
    assert not validator().is_valid(document)
    with pytest.raises(ValueError):
        Flow.model_validate(document)
