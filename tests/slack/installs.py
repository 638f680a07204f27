"""Installing the bot into several workspaces over OAuth, as a browser and Slack do it: the
"Add to Slack" page, the approval (the fake Slack's code), the redirect back with the state
cookie; and people in those workspaces talking to it over signed HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bot.engine.people import Person
from tests.slack import payloads
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import Bot, Leader, SlackSide, make_bot

APP_ID = "A1"
COOKIE = "slack-app-oauth-state"


def oauth_bot(fake: FakeSlack, tmp_path: Path, **settings: Any) -> Bot:
    """The app as `reflect run --http` builds it with SLACK_CLIENT_ID/SECRET: no bot token."""
    return make_bot(
        fake,
        tmp_path,
        slack_bot_token=None,
        slack_client_id=fake.client_id,
        slack_client_secret=fake.client_secret,
        slack_app_id=APP_ID,
        **settings,
    )


def install(
    http: httpx.Client,
    fake: FakeSlack,
    team_id: str | None,
    *,
    installer: str,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> httpx.Response:
    """Open /slack/install, approve on Slack's side, follow the redirect back."""
    page = http.get("/slack/install")
    assert page.status_code == 200, page.text
    state = re.search(r"state=([^&\"']+)", page.text)
    assert state is not None, "no Add to Slack link with a state"
    cookie = page.headers.get("set-cookie", "")
    assert f"{COOKIE}={state.group(1)}" in cookie
    code = fake.grant(team_id, installer=installer, enterprise_id=enterprise_id, org_wide=org_wide)
    return http.get(
        "/slack/oauth_redirect",
        params={"code": code, "state": state.group(1)},
        headers={"Cookie": f"{COOKIE}={state.group(1)}"},
    )


class Member(Leader):
    """A person in one of several workspaces."""

    def __init__(
        self,
        user_id: str,
        team_id: str,
        *,
        slack: SlackSide,
        fake: FakeSlack,
        bot: Bot,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> None:
        super().__init__(user_id=user_id, slack=slack, fake=fake, bot=bot)
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.org_wide = org_wide
        org = enterprise_id if org_wide else team_id
        self.person = Person(id=f"{enterprise_id or team_id}:{user_id}", org=org)

    def says(self, text: str) -> httpx.Response:
        body = payloads.event_callback(
            payloads.message_im(self.user_id, text), team_id=self.team_id
        )
        if self.enterprise_id:  # a workspace of an Enterprise Grid organisation
            body["enterprise_id"] = self.enterprise_id
            body["authorizations"][0]["enterprise_id"] = self.enterprise_id
        if self.org_wide:  # installed for the whole organisation: no team in the install
            body["authorizations"][0] |= {"team_id": None, "is_enterprise_install": True}
        response = self.slack.envelope(body)
        self.bot.settle()
        return response

    def opens_home(self) -> httpx.Response:
        response = self.slack.event(payloads.home_opened(self.user_id), team_id=self.team_id)
        self.bot.settle()
        return response


def reflect_as(someone: Member, *, words: str = "A long shift and a hard talk.") -> None:
    """A whole hard-day reflection, typed, with `words` for every written answer."""
    walk(someone.says, lambda: someone.bot.conversations.current(someone.person), words=words)


def walk(says: Callable[[str], object], current: Callable[[], Any], *, words: str) -> None:
    """A whole hard-day reflection: `says` types, `current` reads the question it is at."""
    says("hard day")
    for _ in range(30):
        question = current()
        if question is None:
            return
        if question.step_kind in ("choice", "multi", "follow_up"):
            says("1")
        elif question.step_kind == "scale":
            says(str(question.scale.max))
        else:
            says(words)
    raise AssertionError("the flow did not end")


def uninstalled(slack: SlackSide, team_id: str) -> httpx.Response:
    """Slack's app_uninstalled event for the workspace (sent with no authorizations)."""
    body = payloads.event_callback({"type": "app_uninstalled"}, team_id=team_id)
    del body["authorizations"]
    return slack.envelope(body)
