"""Reading a configuration file (safety phrases, signposts) as YAML, with one clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: Path, *, what: str, error: Callable[[str], Exception]) -> Any:
    """What the YAML file at `path` holds; `error(message)`, naming the file and `what` it is,
    if it cannot be read or is not YAML."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise error(f"{path}: cannot read {what} ({problem}).") from problem
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML ({problem}).") from problem
