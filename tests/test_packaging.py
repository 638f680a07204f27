"""Reflect as a real package: the wheel carries the built-in flows, config and copy, and a
fresh environment with nothing but the wheel (and the dependencies) runs `reflect flows check`
and a whole `reflect chat`. Built and installed offline, from a copy of the source."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.engine import messages

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "flows", "config", "pyproject.toml", "setup.py", "README.md")
PIP = (sys.executable, "-m", "pip")


def _run(
    command: list[str], *, cwd: Path, typed: str = "", timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REFLECT_"))}
    env |= {"PYTHONUTF8": "1", "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        command,
        input=typed,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=ignore)
        else:
            shutil.copy2(origin, source / name)
    dist = tmp_path_factory.mktemp("dist")
    built = _run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist), str(source)],
        cwd=source,
    )
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("reflect_bot-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment holding the wheel; the dependencies come from this one's
    site-packages, added as a plain path (so this checkout's editable install is not seen)."""
    home = tmp_path_factory.mktemp("venv")
    venv = home / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=home)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=home
    ).stdout.strip()
    Path(purelib, "reflect_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    install = _run(
        [*PIP, "--python", str(python), "install", "--no-index", "--no-deps", str(wheel)],
        cwd=home,
    )
    assert install.returncode == 0, install.stderr
    yield venv


def test_the_wheel_carries_the_builtin_flows_config_and_copy(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    flows = {p.name for p in (ROOT / "flows").glob("*.yaml")}
    configs = {p.name for p in (ROOT / "config").glob("*.yaml")}
    assert {f"bot/_builtin/flows/{name}" for name in flows} <= names
    assert "bot/_builtin/flows/schema.json" in names
    assert {f"bot/_builtin/config/{name}" for name in configs} <= names
    copies = [str(path.relative_to(ROOT)) for path in (ROOT / "bot").rglob("*.yaml")]
    assert "bot/slack/views/copy.yaml" in copies
    for copy in copies:
        assert copy in names
    assert not any(name.startswith(("flows/", "config/", "tests/")) for name in names)


def test_the_installed_reflect_finds_its_flows_inside_the_package(
    installed: Path, tmp_path: Path
) -> None:
    shown = _run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "from bot.settings import Settings;print(Settings().flows_dir)",
        ],
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    assert Path(shown.stdout.strip()).is_relative_to(installed)
    checked = _run([str(installed / "bin" / "reflect"), "flows", "check"], cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert re.match(r"OK: \d+ flows checked", checked.stdout)


def test_a_whole_chat_runs_from_the_installed_package(installed: Path, tmp_path: Path) -> None:
    """The default flow, answered with its own first rehearsal's inputs, is finished and
    saved by the installed `reflect chat`."""
    flow = yaml.safe_load((ROOT / "flows" / "hard-day.yaml").read_text(encoding="utf-8"))
    inputs = flow["tests"][0]["inputs"]
    chatted = _run(
        [str(installed / "bin" / "reflect"), "chat", "hard-day"],
        cwd=tmp_path,
        typed="\n".join(inputs) + "\n",
    )
    assert chatted.returncode == 0, chatted.stderr
    finished = messages.text("session.finished").splitlines()[0]
    assert finished in chatted.stdout, chatted.stdout[-2000:]
    assert (tmp_path / "data" / "secret.key").exists()


def test_a_broken_installed_safety_file_is_one_line(installed: Path, tmp_path: Path) -> None:
    """The safety phrase lists are read when the screen is imported: a broken file must still
    come out as one line."""
    safety = next(installed.rglob("bot/_builtin/config/safety.yaml"))
    kept = safety.read_text(encoding="utf-8")
    try:
        safety.write_text("self: [unclosed\n", encoding="utf-8")
        result = _run([str(installed / "bin" / "reflect"), "chat"], cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "safety.yaml" in result.stderr
    finally:
        safety.write_text(kept, encoding="utf-8")


def test_the_dependency_floors_leave_out_known_vulnerable_releases() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    floors = {
        re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0].lower(): requirement
        for requirement in declared["project"]["dependencies"]
    }

    def floor(name: str) -> tuple[int, ...]:
        found = re.search(r">=\s*([\d.]+)", floors[name])
        assert found, f"{name} has no floor"
        return tuple(int(part) for part in found.group(1).split("."))

    assert floor("cryptography") >= (44, 0, 1)  # CVE-2024-12797 (OpenSSL in the wheels)
    assert floor("jinja2") >= (3, 1, 6)  # CVE-2025-27516 (sandbox escape through |attr)
    assert floor("waitress") >= (3, 0, 1)  # CVE-2024-49768, CVE-2024-49769
    build = declared["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(7\d|[89]\d)(\.\d+)*", item) for item in build)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_installs_what_reflect_needs_and_make_test_adds_the_dev_tools(
    tmp_path: Path,
) -> None:
    venv = tmp_path / "venv"

    def planned(target: str) -> str:
        shown = _run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT)
        assert shown.returncode == 0, shown.stderr
        return shown.stdout

    run = planned("run")
    assert "pip install --quiet -e .\n" in run
    assert "[dev]" not in run
    assert "pip install --quiet -e '.[dev]'" in planned("test")
