"""What every configuration file loader (safety phrases, signposts) must do with a file it cannot
use: one clear error of its own kind, naming the problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def assert_bad_files_are_clear_errors(
    load: Callable[[Path], object], error: type[Exception], *, what: str, tmp_path: Path
) -> None:
    """A missing file, a file that is not YAML, and a list where a mapping belongs."""
    with pytest.raises(error, match=f"cannot read {what}"):
        load(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("text: [unclosed\n", encoding="utf-8")
    with pytest.raises(error, match="not valid YAML"):
        load(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- one\n", encoding="utf-8")
    with pytest.raises(error, match="expected a mapping"):
        load(listed)


#: One entry of a supervisor directory, as an organisation would write it ({email} to fill in).
ENTRY = """\
supervisors:
  - name: Trust supervision team
    for: Ward managers
    sectors: [health]
    nations: [England]
    cost: Free, in work time
    format: One hour, one to one, online
    eligibility: Anyone employed by the trust
    wait: About two weeks
    confidentiality: Confidential within professional codes
    email: {email}
"""
