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


#: A Bolt listener acks first and hands its work on (bot.slack.services): its body, from its
#: first statement to its last, stays this short.
LISTENER_MOST_LINES = 15
LISTENERS = BOT / "slack" / "listeners"


def _listener_sizes(source: str) -> dict[str, int]:
    """Each listener's body length in lines (its docstring left out): the functions a listener
    module registers with the app (`@app.…`), and any other `on_…` function in it."""
    sizes: dict[str, int] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        registered = any(
            isinstance(d, ast.Call)
            and isinstance(d.func, ast.Attribute)
            and isinstance(d.func.value, ast.Name)
            and d.func.value.id == "app"
            for d in node.decorator_list
        )
        if not (registered or node.name.startswith("on_")):
            continue
        body = node.body
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:] or body
        assert node.end_lineno is not None
        sizes[node.name] = node.end_lineno - body[0].lineno + 1
    return sizes


@pytest.mark.parametrize("path", sorted(LISTENERS.glob("*.py")), ids=lambda p: p.name)
def test_listeners_ack_first_and_hand_work_on(path: Path) -> None:
    sizes = _listener_sizes(path.read_text(encoding="utf-8"))
    long = {name: size for name, size in sizes.items() if size > LISTENER_MOST_LINES}
    assert not long, (
        f"{path.name}: listeners {long} are longer than {LISTENER_MOST_LINES} lines; read the "
        "payload and hand the work to a function in bot.slack.services"
    )


def test_the_listener_measure_sees_a_long_listener() -> None:
    long_body = "\n".join(f"        x{n} = {n}" for n in range(LISTENER_MOST_LINES + 1))
    source = (
        "def register(app, parts):\n"
        "    @app.action('a')\n"
        "    def clicked(ack):\n"
        '        """Not counted."""\n'
        f"{long_body}\n"
        "    def on_short(ack):\n"
        "        ack()\n"
    )
    assert _listener_sizes(source) == {"clicked": LISTENER_MOST_LINES + 1, "on_short": 1}


def test_every_listener_module_registers_listeners() -> None:
    found = {
        path.name: _listener_sizes(path.read_text(encoding="utf-8"))
        for path in LISTENERS.glob("*.py")
        if "def register(" in path.read_text(encoding="utf-8")
    }
    assert len(found) >= 8 and all(found.values()), found
