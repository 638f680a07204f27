"""Small helpers for turning measurements into BENCHMARKS.md: percentiles and tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` in 0..1) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def put_section(path: Path, title: str, body: str) -> None:
    """Put the section `## title` with `body` into the Markdown file at `path` in place
    (replacing an earlier one, or before the notes), leaving the other sections as they are."""
    text = path.read_text(encoding="utf-8")
    heading = f"## {title}"
    block = f"{heading}\n\n{body}\n"
    if heading in text:
        before, rest = text.split(heading, 1)
        following = rest.split("\n## ", 1)
        text = before + block + ("\n## " + following[1] if len(following) > 1 else "")
    elif "\n## Notes" in text:
        before, notes = text.split("\n## Notes", 1)
        text = before.rstrip("\n") + "\n\n" + block + "\n## Notes" + notes
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")
