"""Crisis signposts, from a versioned file with a review date (config/signposts.yaml).

Two cards: the crisis card, when the words suggest a risk to the leader, and a gentler card when
a leader talks about someone else's self-harm or death met at work (it still lists support:
vicarious trauma is real). Both say plainly that Reflect is not a crisis service and that no
person is reading. A one-line reminder stays visible for the rest of the session.

Each service says which nations it serves and, when it is only for some people, whom: the card
labels every line with both, so that a head teacher in Belfast is not sent to NHS 111 option 2.
An organisation's own Employee Assistance Programme has a slot of its own (`eap`), shown only
when it is filled in with a real service.

The file is checked when it is loaded; every problem is reported at once. A review date in the
past is not an error (old numbers are better than none): `warnings(now=...)` tells the operator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.engine.config_file import load_config, mapping_problems
from bot.engine.replies import Resource, Signpost
from bot.engine.safety import Concern

#: How long before the review date the operator is reminded.
REVIEW_SOON = dt.timedelta(days=30)
#: Slack shows at most 3,000 characters in one text block; keep cards well inside it.
MAX_TEXT = 1500
MAX_REMINDER = 200

_TEXTS = ("text", "gentle_text", "notice")
_KEYS = frozenset({"version", "review_by", "reminder", "resources", "eap", *_TEXTS})
_RESOURCE_KEYS = frozenset({"name", "how", "when", "serves", "for"})
#: The nations a service may serve, as the file names them.
NATIONS = ("England", "Wales", "Scotland", "Northern Ireland", "Republic of Ireland")
_UK = frozenset(NATIONS[:4])
#: Signs that an EAP entry is the example, not a real service.
_PLACEHOLDERS = ("<", ">", "xxx", "todo", "tbc", "0000 000", "000 0000", "example", "your eap")
#: The EAP is shown after this many services (after Samaritans and Shout).
EAP_POSITION = 2
_EMERGENCY_WORDS = ("999", "112", "911", "a&e", "emergency")


class SignpostsError(ValueError):
    """The signposts file cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class Service:
    """One service in the signposts file, with whom it serves."""

    name: str
    how: str
    when: str = ""
    #: The nations it serves (see `NATIONS`); empty when the file does not say.
    serves: tuple[str, ...] = ()
    #: Whom it is for, when it is not for everyone ("school, college and university staff").
    audience: str = ""

    @property
    def label(self) -> str:
        """Where and for whom, as shown next to the name: "England and Wales", "UK-wide"."""
        nations = set(self.serves)
        if nations >= _UK:
            where = "UK and Ireland" if "Republic of Ireland" in nations else "UK-wide"
        else:
            named = [nation for nation in NATIONS if nation in nations]
            where = " and ".join(filter(None, [", ".join(named[:-1]), named[-1]])) if named else ""
        return ", ".join(
            part for part in (where, f"for {self.audience}" if self.audience else "") if part
        )

    def resource(self) -> Resource:
        label = self.label
        return Resource(f"{self.name} ({label})" if label else self.name, self.how, self.when)


@dataclass(frozen=True)
class Signposts:
    version: str
    review_by: dt.date
    resources: tuple[Resource, ...]
    #: The crisis card's opening words.
    text: str
    #: The gentler card's opening words, for someone else's self-harm or death.
    gentle_text: str
    #: Said on both cards: not a crisis service, no person is reading.
    notice: str
    #: One line, kept visible for the rest of the session.
    reminder: str
    #: Where the signposts came from, for messages to the operator.
    source: str = "signposts"
    #: The services, with the nations and people each serves (the EAP not included).
    services: tuple[Service, ...] = ()
    #: The organisation's own Employee Assistance Programme, when it has set one.
    eap: Service | None = None

    def signpost(self, concern: Concern) -> Signpost:
        """The card for what the safety screen found."""
        if concern.outcome == "others":
            return Signpost(
                f"{self.gentle_text}\n{self.notice}", self.resources, offer_pause=True, gentle=True
            )
        return Signpost(f"{self.text}\n{self.notice}", self.resources, offer_pause=True)

    def overdue(self, *, now: dt.date | dt.datetime) -> bool:
        """Whether the review date has passed: the numbers may be out of date."""
        return _day(now) > self.review_by

    def warnings(self, *, now: dt.date | dt.datetime) -> tuple[str, ...]:
        """What the operator should hear about at start-up (the file still loads)."""
        today = _day(now)
        found: list[str] = []
        if self.overdue(now=today):
            found.append(
                f"{self.source}: the signposts (version {self.version}) were due for review on "
                f"{self.review_by.isoformat()}. Check every number and service, then move "
                "review_by on."
            )
        elif self.review_by - today <= REVIEW_SOON:
            found.append(
                f"{self.source}: the signposts (version {self.version}) are due for review by "
                f"{self.review_by.isoformat()}."
            )
        listed = " ".join(f"{r.name} {r.how} {r.when}" for r in self.resources).lower()
        if not any(word in listed for word in _EMERGENCY_WORDS):
            found.append(
                f"{self.source}: no resource says what to do when a life is at risk now "
                "(for example: call 999 or go to A&E)."
            )
        return tuple(found)


def _day(moment: dt.date | dt.datetime) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment


def load_signposts(path: Path) -> Signposts:
    """Read and check a signposts file, reporting every problem at once."""
    return load_config(path, what="the signposts file", error=SignpostsError, parse=parse_signposts)


def parse_signposts(data: Any, *, source: str = "signposts") -> Signposts:
    """Check signposts already read from YAML (see config/signposts.yaml for the format)."""
    expected = "a mapping with version, review_by, text.."
    problems = mapping_problems(
        data, known=_KEYS, source=source, expected=expected, error=SignpostsError
    )
    version = data.get("version")
    if not isinstance(version, str | int | float) or not str(version).strip():
        problems.append('version: required, e.g. "2026.11-uk"')
    review_by = _date(data.get("review_by"), problems)
    texts = {
        key: _text(data.get(key), key=key, limit=MAX_TEXT, problems=problems) for key in _TEXTS
    }
    reminder = _text(data.get("reminder"), key="reminder", limit=MAX_REMINDER, problems=problems)
    if "\n" in reminder:
        problems.append("reminder: keep it to one line")
    services = _services(data.get("resources"), problems)
    eap = _eap(data.get("eap"), problems)
    if problems or review_by is None:
        raise SignpostsError(
            f"{source}: the signposts file has problems:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    listed = list(services)
    if eap is not None:
        listed.insert(min(EAP_POSITION, len(listed)), eap)
    return Signposts(
        version=str(version).strip(),
        review_by=review_by,
        resources=tuple(service.resource() for service in listed),
        services=services,
        eap=eap,
        text=texts["text"],
        gentle_text=texts["gentle_text"],
        notice=texts["notice"],
        reminder=reminder,
        source=source,
    )


def _date(raw: Any, problems: list[str]) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    problems.append("review_by: required, a date such as 2027-05-01")
    return None


def _text(raw: Any, *, key: str, limit: int, problems: list[str]) -> str:
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{key}: required, the words to show")
        return ""
    text = raw.strip()
    if len(text) > limit:
        problems.append(f"{key}: {len(text)} characters; keep it under {limit}")
    return text


def _services(raw: Any, problems: list[str]) -> tuple[Service, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append("resources: required, a list of services (name, how, when)")
        return ()
    found: list[Service] = []
    for number, item in enumerate(raw, start=1):
        service = _service(item, where=f"resources, item {number}", problems=problems)
        if service is not None:
            found.append(service)
    return tuple(found)


def _service(item: Any, *, where: str, problems: list[str]) -> Service | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: expected name, how and when")
        return None
    problems.extend(f"{where}: unknown key {key!r}" for key in sorted(set(item) - _RESOURCE_KEYS))
    fields = {}
    for key in ("name", "how"):
        value = item.get(key)
        if not isinstance(value, str | int) or not str(value).strip():
            problems.append(f"{where}: {key} is required")
        fields[key] = str(value or "").strip()
    texts = {}
    for key in ("when", "for"):
        value = item.get(key, "")
        if not isinstance(value, str):
            problems.append(f"{where}: {key} should be text")
            value = ""
        texts[key] = value.strip()
    return Service(
        fields["name"],
        fields["how"],
        texts["when"],
        serves=_nations(item.get("serves"), where=where, problems=problems),
        audience=texts["for"],
    )


def _nations(raw: Any, *, where: str, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(n, str) for n in raw):
        problems.append(f"{where}: serves should be a list of nations, e.g. [England, Wales]")
        return ()
    unknown = [nation for nation in raw if nation not in NATIONS]
    if unknown:
        problems.append(
            f"{where}: serves names {', '.join(map(repr, unknown))}; use {', '.join(NATIONS)}"
        )
    return tuple(nation for nation in NATIONS if nation in raw)


def _eap(raw: Any, problems: list[str]) -> Service | None:
    """The organisation's EAP: absent (None) unless filled in with a real service."""
    if raw is None:
        return None
    service = _service(raw, where="eap", problems=problems)
    if service is None:
        return None
    words = f"{service.name} {service.how} {service.when}".lower()
    if any(mark in words for mark in _PLACEHOLDERS):
        problems.append(
            "eap: looks like the example, not your service: put in its real name and number, "
            "or leave eap out"
        )
        return None
    return service
