"""The safety screen: every piece of text a leader sends is checked here first.

First version: a few phrases. To be replaced by the full screen (direct, indirect, misspelled
and negated phrasing; others' self-harm at work told apart from risk to the leader).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Concern:
    """What the screen found. `about` is "self" when the words suggest a risk to the leader,
    "others" when they talk about someone else's self-harm or death (a patient, a pupil)."""

    about: Literal["self", "others"]


_SELF = re.compile(r"\b(kill myself|end my life|suicid\w*|self[- ]?harm\w*|hurt myself)\b", re.I)


def screen(text: str) -> Concern | None:
    """Check one message. Never logs or keeps the text."""
    if _SELF.search(text):
        return Concern("self")
    return None
