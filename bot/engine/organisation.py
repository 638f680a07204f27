"""Per-organisation settings: what one workspace (or Enterprise Grid organisation) chose, over
the built-in defaults.

An organisation may set its own crisis signposts (with their review date), its own supervisor
directory, the flow offered first, and a retention period no longer than the server's. Each is
kept as the text its admin gave (YAML for the two files) and checked here exactly as the
built-in files are: by `parse_signposts` and `parse_directory`, with every problem reported at
once (file:line for the directory). Anything an organisation has not set, or that no longer
passes the checks, falls back to the built-in default.

Pure: the store keeps the texts, the transports say whose organisation a person belongs to,
and `bot.runtime` hands the engine a function from a person to their `Organisation`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import yaml

from bot.engine.replies import Supervisor
from bot.engine.signposts import Signposts, SignpostsError, parse_signposts
from bot.engine.supervisors import SupervisorsError, parse_directory

#: What an organisation can set, by the name its admin uses.
Setting = Literal["signposts", "supervisors", "default-flow", "retention-days"]
SETTINGS: tuple[Setting, ...] = ("signposts", "supervisors", "default-flow", "retention-days")
#: The shortest retention an organisation may choose.
MIN_RETENTION_DAYS = 1
#: The longest text kept for one setting (the built-in files are a few kB).
MAX_SETTING_TEXT = 64 * 1024


class OrganisationSettingError(ValueError):
    """A setting that cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class Organisation:
    """What applies to the people of one organisation: its choices, or the defaults."""

    signposts: Signposts
    supervisors: tuple[Supervisor, ...]
    default_flow: str
    retention_days: int
    #: Which settings the organisation set itself (the rest are the defaults).
    own: frozenset[Setting] = frozenset()
    #: Settings stored but no longer usable (left at the default), each with why.
    warnings: tuple[str, ...] = ()


def check(
    name: str, text: str, *, defaults: Organisation, flows: frozenset[str], source: str
) -> str:
    """The setting's text, normalised, if it passes the same checks as the built-in files;
    raises OrganisationSettingError listing every problem otherwise."""
    if name not in SETTINGS:
        raise OrganisationSettingError(
            f"unknown setting {name!r}; the settings are {', '.join(SETTINGS)}"
        )
    if len(text) > MAX_SETTING_TEXT:
        raise OrganisationSettingError(
            f"{source}: {len(text)} characters; keep it under {MAX_SETTING_TEXT}"
        )
    applied = _apply(name, text, defaults=defaults, flows=flows, source=source)
    if name == "supervisors":
        # The server's own file leaves a placeholder entry out with a warning in its log; an
        # organisation's admin would never see that warning, so it is a problem here.
        left_out = parse_directory(text, source=f"{source} ({name})").warnings
        if left_out:
            raise OrganisationSettingError("\n".join(left_out))
        if not applied.supervisors:
            raise OrganisationSettingError(f"{source}: no supervisor is listed")
    return text.strip() if name in ("default-flow", "retention-days") else text


def resolve(
    stored: dict[str, str], *, defaults: Organisation, flows: frozenset[str], source: str
) -> Organisation:
    """The organisation's settings over `defaults`. A stored text that no longer passes the
    checks (a flow since removed, a shorter server retention) is left out with a warning."""
    found = defaults
    own: set[Setting] = set()
    warnings: list[str] = []
    for name in SETTINGS:
        if name not in stored:
            continue
        try:
            found = _apply(name, stored[name], defaults=found, flows=flows, source=source)
        except OrganisationSettingError as problem:
            warnings.append(f"{source}: {name} left at the default: {problem}")
            continue
        own.add(name)
    return replace(found, own=frozenset(own), warnings=tuple(warnings))


def _apply(
    name: str, text: str, *, defaults: Organisation, flows: frozenset[str], source: str
) -> Organisation:
    where = f"{source} ({name})"
    if name == "signposts":
        return replace(defaults, signposts=_signposts(text, source=where))
    if name == "supervisors":
        try:
            directory = parse_directory(text, source=where)
        except SupervisorsError as problem:
            raise OrganisationSettingError(str(problem)) from None
        return replace(defaults, supervisors=directory.supervisors)
    if name == "default-flow":
        flow_id = text.strip()
        if flow_id not in flows:
            raise OrganisationSettingError(
                f"{where}: no flow {flow_id!r}; choose one of {', '.join(sorted(flows))}"
            )
        return replace(defaults, default_flow=flow_id)
    if name == "retention-days":
        days = _days(text, most=defaults.retention_days, where=where)
        return replace(defaults, retention_days=days)
    raise OrganisationSettingError(f"unknown setting {name!r}")


def _signposts(text: str, *, source: str) -> Signposts:
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark
        at = f":{mark.line + 1}" if mark else ""
        raise OrganisationSettingError(
            f"{source}{at}: not valid YAML ({problem.problem})"
        ) from None
    except yaml.YAMLError as problem:
        raise OrganisationSettingError(f"{source}: not valid YAML ({problem})") from None
    try:
        return parse_signposts(data, source=source)
    except SignpostsError as problem:
        raise OrganisationSettingError(str(problem)) from None


def _days(text: str, *, most: int, where: str) -> int:
    raw = text.strip()
    if not raw.isdigit():
        raise OrganisationSettingError(f"{where}: a whole number of days, not {raw!r}")
    days = int(raw)
    if not MIN_RETENTION_DAYS <= days <= most:
        raise OrganisationSettingError(
            f"{where}: {days} days; choose from {MIN_RETENTION_DAYS} to {most} "
            "(the server keeps nothing longer than that)"
        )
    return days
