"""Crisis signposts, from a versioned file with a review date (config/signposts.yaml)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.engine.replies import Resource, Signpost
from bot.engine.safety import Concern


@dataclass(frozen=True)
class Signposts:
    version: str
    review_by: dt.date
    resources: tuple[Resource, ...]
    text: str
    gentle_text: str
    reminder: str

    def signpost(self, concern: Concern) -> Signpost:
        if concern.about == "others":
            return Signpost(self.gentle_text, self.resources, offer_pause=True, gentle=True)
        return Signpost(self.text, self.resources, offer_pause=True)


def load_signposts(path: Path) -> Signposts:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Signposts(
        version=str(data["version"]),
        review_by=data["review_by"],
        resources=tuple(Resource(**item) for item in data["resources"]),
        text=data["text"].strip(),
        gentle_text=data["gentle_text"].strip(),
        reminder=data["reminder"].strip(),
    )
