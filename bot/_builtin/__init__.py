"""Where the built-in flows and configuration are found, installed or not.

The repository keeps them at its top level (`flows/`, `config/`), where authors and reviewers
expect them; the package ships them as `bot._builtin.flows` and `bot._builtin.config` (setup.py
maps the folders onto those names), so a wheel, `pip install .` or pipx carries them, and an
editable install reads the checkout's own folders. Found through importlib.resources, never
through paths relative to the source tree.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def folder(name: str) -> Path:
    """The folder of built-in `flows` or `config`, as a path on disk."""
    if name not in ("flows", "config"):
        raise ValueError(f"no built-in folder {name!r}")
    return Path(str(resources.files(f"{__name__}.{name}")))


def file(name: str, filename: str) -> Path:
    """A built-in file, e.g. `file("config", "safety.yaml")`."""
    return folder(name) / filename
