"""Configuration files are read with libyaml where it is there, exactly as yaml.safe_load reads
them, and a broken one gives PyYAML's own error, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.engine.config_file import load_yaml, read_yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    [*ROOT.glob("config/*.yaml"), *ROOT.glob("flows/*.yaml"), *ROOT.glob("bot/**/*.yaml")]
)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_shipped_file_reads_as_safe_load_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    ["self: [unclosed\n", "a: 1\n b: 2\n", "a: !!python/object:os.system x\n", "- a\nb: c\n"],
)
def test_broken_yaml_gives_pyyamls_own_error(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as found:
        load_yaml(text)
    assert str(found.value) == str(expected.value)


def test_a_broken_file_is_one_error_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "safety.yaml"
    path.write_text("groups:\n  self: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"(?s)safety\.yaml: not valid YAML .*line 2, column 9"):
        read_yaml(path, what="the safety phrases", error=ValueError)
