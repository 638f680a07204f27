"""The Home tab's admin section and its windows: one organisation's own settings.

Shown to workspace admins only (users.info). Each window checks what is submitted exactly as
`reflect org set` does (bot.engine.organisation.check) and lists every problem under the box.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.engine.organisation import Organisation
from bot.engine.people import Person
from bot.slack.delivery.names import Profile
from bot.slack.identity import workspace_of
from bot.slack.parts import Parts
from bot.slack.views import copy
from bot.slack.views.fitting import HEADER_TEXT, MODAL_TITLE, OPTION_TEXT, shorten
from bot.slack.views.mrkdwn import escape, markdown, plain

#: Buttons of the admin section, and the windows they open.
EDIT_SIGNPOSTS = "organisation_signposts"
EDIT_SUPERVISORS = "organisation_supervisors"
EDIT_CHOICES = "organisation_choices"
RESET = "organisation_reset"
#: The windows' callback ids (one per window) and their inputs.
FILE_BLOCK, FILE_ACTION = "file", "file_text"
FLOW_BLOCK, FLOW_ACTION = "flow", "flow_choice"
DAYS_BLOCK, DAYS_ACTION = "days", "days_text"
#: Slack's longest plain-text input.
MOST_CHARACTERS = 3000
#: Slack's most options in a static select.
MOST_OPTIONS = 100
_FILES = {EDIT_SIGNPOSTS: "signposts", EDIT_SUPERVISORS: "supervisors"}


def is_admin(profile: Profile | None, workspace: str) -> bool:
    """Whether someone may change the organisation's settings: a workspace admin or owner, or
    on Enterprise Grid (settings for the whole organisation) an admin or owner of it."""
    if profile is None:
        return False
    return profile.is_org_admin if workspace.startswith("E") else profile.is_admin


def admin_section(parts: Parts, person: Person) -> list[Block]:
    """The admin section for the Home tab: nothing unless the person is an admin (as users.info
    last said; every change checks again)."""
    workspace = workspace_of(person)
    user = person.id.rpartition(":")[2]
    if parts.organisations is None or workspace is None or not user:
        return []
    if not is_admin(parts.profiles.of(user), workspace):
        return []
    return admin_blocks(
        parts.organisations.of(workspace),
        most_days=parts.organisations.defaults.retention_days,
        titles=flow_titles(parts),
        today=parts.clock().date().isoformat(),
    )


def flow_titles(parts: Parts) -> dict[str, str]:
    return {flow.id: flow.title for flow in parts.conversations.library}


def admin_blocks(
    found: Organisation, *, most_days: int, titles: dict[str, str], today: str
) -> list[Block]:
    """The admin section: what applies, whose it is, and the buttons to change it."""

    def whose(name: str) -> str:
        return copy.text("organisation.own" if name in found.own else "organisation.default")

    review_by = found.signposts.review_by.isoformat()
    lines = [
        copy.text(
            "organisation.signposts",
            whose=whose("signposts"),
            version=escape(found.signposts.version),
            review_by=review_by,
        ),
        copy.text(
            "organisation.supervisors", whose=whose("supervisors"), count=len(found.supervisors)
        ),
        copy.text(
            "organisation.default_flow",
            whose=whose("default-flow"),
            title=escape(titles.get(found.default_flow, found.default_flow)),
        ),
        copy.text(
            "organisation.retention",
            whose=whose("retention-days"),
            days=found.retention_days,
            most=most_days,
        ),
    ]
    if review_by < today:
        lines.append(copy.text("organisation.overdue"))
    buttons = [
        ButtonElement(text=copy.text("organisation.edit_signposts"), action_id=EDIT_SIGNPOSTS),
        ButtonElement(text=copy.text("organisation.edit_supervisors"), action_id=EDIT_SUPERVISORS),
        ButtonElement(text=copy.text("organisation.edit_choices"), action_id=EDIT_CHOICES),
    ]
    if found.own:
        buttons.append(ButtonElement(text=copy.text("organisation.reset"), action_id=RESET))
    return [
        DividerBlock(),
        HeaderBlock(text=plain(shorten(copy.text("organisation.heading"), limit=HEADER_TEXT))),
        ContextBlock(elements=[plain(copy.text("organisation.intro"))]),
        SectionBlock(text=markdown("\n".join(lines))),
        ActionsBlock(elements=buttons),
    ]


def file_view(action: str, *, current: str | None) -> View:
    """The window to paste a signposts or supervisors file into (pre-filled with the
    organisation's own, when it fits)."""
    name = _FILES[action]
    initial = current if current and len(current) <= MOST_CHARACTERS else None
    return View(
        type="modal",
        callback_id=action,
        title=plain(shorten(copy.text(f"organisation.{name}_title"), limit=MODAL_TITLE)),
        submit=plain(copy.text("organisation.save")),
        close=plain(copy.text("organisation.cancel")),
        blocks=[
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
    )


def choices_view(found: Organisation, *, titles: dict[str, str], most_days: int) -> View:
    """The window for the flow offered first and the retention period."""
    options = [
        Option(value=flow_id, text=plain(shorten(title, limit=OPTION_TEXT)))
        for flow_id, title in list(titles.items())[:MOST_OPTIONS]
    ]
    chosen = next((o for o in options if o.value == found.default_flow), None)
    return View(
        type="modal",
        callback_id=EDIT_CHOICES,
        title=plain(shorten(copy.text("organisation.choices_title"), limit=MODAL_TITLE)),
        submit=plain(copy.text("organisation.save")),
        close=plain(copy.text("organisation.cancel")),
        blocks=[
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
    )
