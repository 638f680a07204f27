"""House rule: dependencies point inward. The engine knows nothing of Slack or SQLite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
FORBIDDEN_IN_ENGINE = (
    "slack_bolt",
    "slack_sdk",
    "sqlite_utils",
    "sqlite3",
    "click",
    "bot.store",
    "bot.slack",
    "bot.terminal",
    "bot.weekly",
    "bot.settings",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted((BOT / "engine").rglob("*.py")), ids=lambda p: p.name)
def test_engine_imports_nothing_from_the_edges(path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        for forbidden in FORBIDDEN_IN_ENGINE
        if name == forbidden or name.startswith(forbidden + ".")
    }
    assert not bad, f"{path.name} imports {sorted(bad)}; the engine must stay pure"


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = []
    for path in BOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if ("os.environ" in text or "os.getenv" in text) and path.name != "settings.py":
            readers.append(str(path.relative_to(BOT)))
    assert readers == []


@pytest.mark.parametrize(
    "path",
    sorted(p for p in BOT.rglob("*.py") if "store" not in p.relative_to(BOT).parts[:1]),
    ids=lambda p: str(p.relative_to(BOT)),
)
def test_only_the_store_speaks_sql(path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        for forbidden in ("sqlite3", "sqlite_utils")
        if name == forbidden or name.startswith(forbidden + ".")
    }
    assert not bad, f"{path.relative_to(BOT)} imports {sorted(bad)}; only bot/store speaks SQL"


def test_only_the_gateway_makes_a_slack_web_client() -> None:
    makers = [
        str(path.relative_to(BOT))
        for path in BOT.rglob("*.py")
        if "WebClient(" in path.read_text(encoding="utf-8")
        and path.relative_to(BOT) != Path("slack/delivery/gateway.py")
    ]
    assert makers == []
