"""manifest.yml creates the app Reflect needs, with no more scopes than it uses."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())

#: Every scope Reflect may ask for, and why. Add to it only with a reason.
ALLOWED_SCOPES = {
    "chat:write": "post in the leader's DM",
    "commands": "/reflect",
    "im:history": "read the leader's messages to the bot (message.im)",
    "im:write": "open the DM for /reflect and the weekly nudges",
    "users:read": "first names to greet, time zones for weekly nudges",
    "channels:read": "weekly nudges: a public team channel's members",
    "groups:read": "weekly nudges: a private team channel's members",
}


def test_scopes_stay_within_the_allowlist() -> None:
    listed = MANIFEST["oauth_config"]["scopes"]["bot"]
    assert len(listed) == len(set(listed)), "a scope is listed twice"
    scopes = set(listed)
    assert scopes <= set(ALLOWED_SCOPES), f"unexpected scopes: {scopes - set(ALLOWED_SCOPES)}"
    assert {"chat:write", "commands", "im:history", "im:write", "users:read"} <= scopes
    assert "user" not in MANIFEST["oauth_config"]["scopes"], "no user-token scopes"


def test_the_app_has_what_issue_4_needs() -> None:
    features = MANIFEST["features"]
    assert features["bot_user"]["display_name"]
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert [c["command"] for c in features["slash_commands"]] == ["/reflect"]
    settings = MANIFEST["settings"]
    assert settings["interactivity"]["is_enabled"]
    assert settings["socket_mode_enabled"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"message.im", "app_home_opened"}
    for url in (
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        features["slash_commands"][0]["url"],
    ):
        assert url.endswith("/slack/events")


DISTRIBUTION = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "manifest-distribution.yml").read_text()
)


def test_the_distribution_manifest_is_the_same_app_over_oauth_and_http_only() -> None:
    """manifest-distribution.yml: what Slack's Marketplace needs (OAuth with a redirect URL, no
    Socket Mode, token rotation, org-wide installs, uninstall events), and otherwise exactly
    the app manifest.yml makes, so the two cannot drift apart."""
    settings = DISTRIBUTION["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is True
    assert settings["org_deploy_enabled"] is True
    redirects = DISTRIBUTION["oauth_config"]["redirect_urls"]
    assert redirects and all(
        url.startswith("https://") and url.endswith("/slack/oauth_redirect") for url in redirects
    )
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.im",
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    }
    features = DISTRIBUTION["features"]
    for url in (
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        features["slash_commands"][0]["url"],
    ):
        assert url.startswith("https://") and url.endswith("/slack/events")
    # Everything else is the single-workspace app's: the same scopes (still within the
    # allowlist), features and words.
    assert DISTRIBUTION["oauth_config"]["scopes"] == MANIFEST["oauth_config"]["scopes"]
    assert features == MANIFEST["features"]
    assert DISTRIBUTION["display_information"] == MANIFEST["display_information"]
    assert settings["interactivity"] == MANIFEST["settings"]["interactivity"]
    assert set(DISTRIBUTION) == set(MANIFEST)
    assert set(DISTRIBUTION["oauth_config"]) == {"redirect_urls", "scopes"}
    assert set(settings) == set(MANIFEST["settings"])


def test_the_listing_words_fit_slacks_limits() -> None:
    shown = DISTRIBUTION["display_information"]
    assert len(shown["name"]) <= 35
    assert len(shown["description"]) <= 140
    assert 175 <= len(shown["long_description"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", shown["background_color"])
