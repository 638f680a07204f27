"""The environment the `reflect` CLI tests run it in: a data folder of the test's own, a known
secret, and nothing from the developer's environment (a None value unsets a variable)."""

from __future__ import annotations

from pathlib import Path

SECRET = "cli-test-secret-0123456789-abcdefghijkl"


def cli_env(tmp_path: Path, **more: str | None) -> dict[str, str | None]:
    """Variables for CliRunner.invoke: the data in `tmp_path/data`, flows read from `tmp_path`
    (none there: titles fall back to ids, and it is quick), the terminal user `sam`."""
    return {
        "REFLECT_DATA_DIR": str(tmp_path / "data"),
        "REFLECT_DB": None,
        "REFLECT_SECRET_KEY": SECRET,
        "REFLECT_TERMINAL_USER": "sam",
        "REFLECT_FLOWS_DIR": str(tmp_path),
        **more,
    }
