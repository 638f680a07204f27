"""The Home tab's admin section at work: a workspace admin changes the organisation's own
settings in a window (the signposts or supervisors file, the first flow and retention).

Every text submitted passes the safety screen first, as every text a person writes does: what
it finds is said in the person's DM, and words of crisis save nothing. Then Slack is asked
afresh (users.info) whether the person is still an admin, before anything is opened or saved.
What is submitted is checked exactly as `reflect org set` checks it; the problems are listed
under the box and nothing is saved until all are fixed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.models.blocks import InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from bot.engine.organisation import Organisation, OrganisationSettingError, check
from bot.engine.people import Person
from bot.engine.replies import Reply
from bot.slack.identity import workspace_of
from bot.slack.listeners.home import refresh_home
from bot.slack.parts import Parts
from bot.slack.respond import Job, open_window_after_ack, respond, say, user_of
from bot.slack.views import copy
from bot.slack.views.fitting import OPTION_TEXT, SECTION_TEXT, shorten
from bot.slack.views.modals import modal
from bot.slack.views.mrkdwn import plain
from bot.slack.views.organisation import (
    EDIT_CHOICES,
    EDIT_SIGNPOSTS,
    EDIT_SUPERVISORS,
    flow_titles,
    is_admin,
)
from bot.store.organisations import Organisations

log = logging.getLogger(__name__)

#: The windows' inputs.
FILE_BLOCK, FILE_ACTION = "file", "file_text"
FLOW_BLOCK, FLOW_ACTION = "flow", "flow_choice"
DAYS_BLOCK, DAYS_ACTION = "days", "days_text"
#: Slack's longest plain-text input.
MOST_CHARACTERS = 3000
#: Slack's most options in a static select.
MOST_OPTIONS = 100
FILES = {EDIT_SIGNPOSTS: "signposts", EDIT_SUPERVISORS: "supervisors"}
#: Problems: the box they belong to, and what to say there.
Problems = dict[str, str]
#: What a window submitted: each setting's box and text.
Wanted = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class Saved:
    """What came of a submission: the problems to show under the boxes (none: saved), and
    what the safety screen said, for the DM."""

    problems: Problems
    replies: tuple[Reply, ...] = ()


def still_admin(parts: Parts, context: BoltContext, person: Person) -> bool:
    """Asked afresh of Slack: whether the person may change their organisation's settings."""
    workspace = workspace_of(person)
    if parts.organisations is None or workspace is None or not context.user_id:
        return False
    found = is_admin(parts.profiles.fresh(context.user_id), workspace)
    if not found:
        log.info("an organisation settings request from someone not an admin was refused")
    return found


def open_window(
    parts: Parts, *, ack: Ack, context: BoltContext, action_id: str, trigger_id: str
) -> None:
    """A button of the admin section: ack, then (Slack asked afresh) open its window, for an
    admin only."""

    def admins_window(person: Person) -> View | None:
        found = parts.organisations
        if found is None or not still_admin(parts, context, person):
            return None
        return window(parts, found, action_id, workspace=workspace_of(person) or "")

    open_window_after_ack(
        parts, ack=ack, context=context, trigger_id=trigger_id, window=admins_window
    )


def save(
    parts: Parts, *, ack: Ack, context: BoltContext, callback_id: str, values: dict[str, Any]
) -> None:
    """A window submitted: screen every text, check the admin and the settings, keep them."""
    wanted = submitted(callback_id, values)

    def engine(person: Person) -> Saved:
        return _screened_and_kept(parts, context, person, wanted)

    def then(person: Person, saved: Saved) -> Job:
        jobs: list[Job] = []
        if saved.replies:
            jobs.append(say(parts, person, saved.replies, user_id=user_of(person)))
        if not saved.problems:
            jobs.append(refresh_home(parts, context, person))
        return lambda: [job() for job in jobs if job is not None]

    respond(
        parts,
        ack=ack,
        context=context,
        engine=engine,
        answer=_answer,
        then=then,
        transaction=False,  # users.info is asked first: no transaction held meanwhile
    )


def reset(parts: Parts, *, ack: Ack, context: BoltContext) -> None:
    """Back to the server's defaults: ack, then (Slack asked afresh) for an admin only."""

    def then(person: Person, _: None) -> Job:
        def job() -> None:
            if parts.organisations is not None and still_admin(parts, context, person):
                parts.organisations.kept.remove(workspace_of(person) or "")
                refresh = refresh_home(parts, context, person)
                if refresh is not None:
                    refresh()

        return job

    respond(parts, ack=ack, context=context, engine=lambda _: None, then=then, transaction=False)


def _screened_and_kept(parts: Parts, context: BoltContext, person: Person, wanted: Wanted) -> Saved:
    replies: list[Reply] = []
    for block, text in wanted.values():  # before anything else happens to them
        screened = parts.conversations.screen_input(person, text)
        replies += screened.replies
        if not screened.go_on:
            return Saved({block: copy.text("organisation.screened")}, tuple(replies))
    found = parts.organisations
    if found is None or not still_admin(parts, context, person):
        block = next(iter(wanted.values()))[0]
        return Saved({block: copy.text("organisation.not_admin")}, tuple(replies))
    return Saved(_keep(found, person, wanted, parts=parts), tuple(replies))


def submitted(callback_id: str, values: dict[str, Any]) -> Wanted:
    """What a window submitted: each setting's box and text."""
    if callback_id in FILES:
        return {FILES[callback_id]: (FILE_BLOCK, _value(values, FILE_BLOCK, FILE_ACTION))}
    return {
        "default-flow": (FLOW_BLOCK, _value(values, FLOW_BLOCK, FLOW_ACTION, selected=True)),
        "retention-days": (DAYS_BLOCK, _value(values, DAYS_BLOCK, DAYS_ACTION)),
    }


def _keep(
    organisations: Organisations,
    person: Person,
    wanted: Wanted,
    *,
    parts: Parts,
) -> Problems:
    """Check what was submitted and keep it if every part passes; else the problems."""
    workspace = workspace_of(person) or ""
    checked: dict[str, str] = {}
    problems: Problems = {}
    for name, (block, text) in wanted.items():
        try:
            checked[name] = check(
                name,
                text,
                defaults=organisations.defaults,
                flows=organisations.flows,
                source=name,
            )
        except OrganisationSettingError as problem:
            problems[block] = shorten(str(problem), limit=SECTION_TEXT // 2)
    if problems:
        return problems
    for name, text in checked.items():
        organisations.kept.put(workspace, name, text, at=parts.clock())
    log.info("an organisation's settings were changed from the Home tab")
    return {}


def _value(values: dict[str, Any], block: str, action: str, *, selected: bool = False) -> str:
    found = (values.get(block) or {}).get(action) or {}
    if selected:
        return str((found.get("selected_option") or {}).get("value") or "")
    return str(found.get("value") or "")


def _answer(saved: Saved) -> dict[str, Any]:
    if not saved.problems:
        return {}
    return {"response_action": "errors", "errors": saved.problems}


def window(parts: Parts, organisations: Organisations, action_id: str, *, workspace: str) -> View:
    if action_id == EDIT_CHOICES:
        return choices_view(
            organisations.of(workspace),
            titles=flow_titles(parts),
            most_days=organisations.defaults.retention_days,
        )
    current = organisations.kept.texts(workspace).get(FILES[action_id])
    return file_view(action_id, current=current)


def file_view(action: str, *, current: str | None) -> View:
    """The window to paste a signposts or supervisors file into (pre-filled with the
    organisation's own, when it fits)."""
    name = FILES[action]
    initial = current if current and len(current) <= MOST_CHARACTERS else None
    return modal(
        [
            InputBlock(
                block_id=FILE_BLOCK,
                label=plain(copy.text("organisation.file_label")),
                hint=plain(copy.text("organisation.file_hint", file=f"config/{name}.yaml")),
                element=PlainTextInputElement(
                    action_id=FILE_ACTION,
                    multiline=True,
                    max_length=MOST_CHARACTERS,
                    initial_value=initial,
                ),
            )
        ],
        title=f"organisation.{name}_title",
        submit="organisation.save",
        close="organisation.cancel",
        callback_id=action,
    )


def choices_view(found: Organisation, *, titles: dict[str, str], most_days: int) -> View:
    """The window for the flow offered first and the retention period."""
    options = [
        Option(value=flow_id, text=plain(shorten(title, limit=OPTION_TEXT)))
        for flow_id, title in list(titles.items())[:MOST_OPTIONS]
    ]
    chosen = next((o for o in options if o.value == found.default_flow), None)
    return modal(
        [
            InputBlock(
                block_id=FLOW_BLOCK,
                label=plain(copy.text("organisation.flow_label")),
                element=StaticSelectElement(
                    action_id=FLOW_ACTION, options=options, initial_option=chosen
                ),
            ),
            InputBlock(
                block_id=DAYS_BLOCK,
                label=plain(copy.text("organisation.retention_label")),
                hint=plain(copy.text("organisation.retention_hint", most=most_days)),
                element=PlainTextInputElement(
                    action_id=DAYS_ACTION,
                    initial_value=str(found.retention_days),
                    max_length=6,
                ),
            ),
        ],
        title="organisation.choices_title",
        submit="organisation.save",
        close="organisation.cancel",
        callback_id=EDIT_CHOICES,
    )
