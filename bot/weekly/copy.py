"""The weekly reminders' own words, from `copy.yaml` beside this module (copy lives in YAML)."""

from __future__ import annotations

from pathlib import Path

from bot.engine.messages import Catalogue

text = Catalogue(Path(__file__).with_name("copy.yaml")).text
