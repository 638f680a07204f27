"""Reflect's public pages, as plain HTML: the install page (an "Add to Slack" link to
/slack/install), the privacy notice and the support page, served by `reflect run --http`.

No script, no external asset, nothing that tracks. Built to be read by anyone: a language, a
skip link, landmarks (header, nav, main, footer), one h1 and headings in order, text and links
well above WCAG AA contrast, links underlined, and a visible focus ring for the keyboard.

The privacy notice states what the Home tab states, from the same words
(bot/slack/views/copy.yaml: `home.privacy`, `agreement.body`) and the same numbers (the
retention period and smallest group size from the settings); the pages' own words are in
`copy.yaml` beside this module.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from bot.engine.messages import Catalogue
from bot.engine.signposts import Signposts
from bot.slack.views import copy as slack_copy

text = Catalogue(Path(__file__).with_name("copy.yaml")).text

INSTALL_PATH = "/"
PRIVACY_PATH = "/privacy"
SUPPORT_PATH = "/support"
#: Where the OAuth install starts (Bolt's install page, served with OAuth).
SLACK_INSTALL_PATH = "/slack/install"

#: Dark text on white: about 14:1. Links: about 8.6:1. The focus ring: 3px, high contrast.
_STYLE = """
:root { color: #1b1f23; background: #ffffff; font: 1.0625rem/1.6 system-ui, sans-serif; }
body { margin: 0; }
.skip { position: absolute; left: -999px; top: 0; background: #ffffff; color: #0b3d6b;
  padding: 0.5rem 1rem; }
.skip:focus { left: 0.5rem; }
header, main, footer { max-width: 44rem; margin: 0 auto; padding: 1rem 1.25rem; }
header { border-bottom: 1px solid #6a737d; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 1.25rem; padding: 0;
  margin: 0.5rem 0 0; }
.site { font-weight: 700; font-size: 1.25rem; color: #1b1f23; }
a { color: #0b3d6b; text-decoration: underline; }
a:focus-visible, a:focus { outline: 3px solid #b35900; outline-offset: 2px; }
a.button { display: inline-block; background: #0b3d6b; color: #ffffff; padding: 0.75rem 1.25rem;
  border-radius: 0.375rem; font-weight: 700; text-decoration: none; margin: 0.5rem 0 1rem; }
code { background: #f1f3f5; color: #1b1f23; padding: 0 0.25rem; border-radius: 0.2rem; }
footer { border-top: 1px solid #6a737d; color: #3b4148; font-size: 0.9375rem; }
h1 { font-size: 1.75rem; line-height: 1.25; }
h2 { font-size: 1.3rem; margin-top: 2rem; }
"""

#: What the pages' responses carry: nothing may load from elsewhere or run.
HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none';"
        " frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-cache"),
)


@dataclass(frozen=True)
class PageFacts:
    """What the pages state that comes from the server's settings."""

    retention_days: int
    min_group_size: int
    signposts: Signposts
    #: Who runs this copy of Reflect, and where to write for support (both optional).
    operator: str | None = None
    support_contact: str | None = None


def pages(facts: PageFacts) -> dict[str, str]:
    """Every public page, by path, rendered once."""
    return {
        INSTALL_PATH: install_page(facts),
        PRIVACY_PATH: privacy_page(facts),
        SUPPORT_PATH: support_page(facts),
    }


def install_page(facts: PageFacts) -> str:
    body = [
        _h(1, text("install.heading")),
        _p(text("install.lead")),
        f'<p><a class="button" href="{SLACK_INSTALL_PATH}">{_e(text("install.button"))}</a></p>',
        _h(2, text("install.what_heading")),
        *_paragraphs(text("install.what", min_group=facts.min_group_size)),
        "<ul>",
        f'<li><a href="{PRIVACY_PATH}">{_e(text("install.read_privacy"))}</a></li>',
        f'<li><a href="{SUPPORT_PATH}">{_e(text("install.read_support"))}</a></li>',
        "</ul>",
    ]
    return _page(facts, title=text("install.title"), body=body)


def privacy_page(facts: PageFacts) -> str:
    """The privacy notice: the Home tab's statement, the agreement, and where and how long."""
    operator = facts.operator or text("operator_unnamed")
    kept = slack_copy.text(
        "home.privacy", min_group=facts.min_group_size, days=facts.retention_days
    )
    agreement = slack_copy.text(
        "agreement.body", days=facts.retention_days, min_group=facts.min_group_size
    )
    body = [
        _h(1, text("privacy.heading")),
        _p(text("privacy.lead")),
        _h(2, text("privacy.kept_heading")),
        _bullets(kept),
        _h(2, text("privacy.where_heading")),
        *_paragraphs(text("privacy.where", operator=operator)),
        _h(2, text("privacy.how_long_heading")),
        *_paragraphs(text("privacy.how_long", days=facts.retention_days)),
        _h(2, text("privacy.erase_heading")),
        *_paragraphs(text("privacy.erase")),
        _h(2, text("privacy.agreement_heading")),
        *_paragraphs(agreement),
    ]
    return _page(facts, title=text("privacy.title"), body=body)


def support_page(facts: PageFacts) -> str:
    contact = (
        text("support.contact", contact=_CONTACT_MARK)
        if facts.support_contact
        else text("support.contact_unset")
    )
    signposts = facts.signposts
    services = "".join(
        f"<li><strong>{_e(resource.name)}</strong>: {_e(resource.how)}"
        + (f". {_e(resource.when)}" if resource.when else "")
        + "</li>"
        for resource in signposts.resources
    )
    body = [
        _h(1, text("support.heading")),
        _p(text("support.lead")),
        _h(2, text("support.contact_heading")),
        _p(contact).replace(_e(_CONTACT_MARK), _contact_link(facts.support_contact or "")),
        _h(2, text("support.using_heading")),
        *_paragraphs(text("support.using")),
        _h(2, text("support.crisis_heading")),
        _p(
            text(
                "support.crisis",
                version=signposts.version,
                review_by=signposts.review_by.isoformat(),
            )
        ),
        f"<ul>{services}</ul>",
    ]
    return _page(facts, title=text("support.title"), body=body)


_CONTACT_MARK = "\x00contact\x00"


def _contact_link(contact: str) -> str:
    target = contact if "://" in contact else f"mailto:{contact}"
    return f'<a href="{_e(target)}">{_e(contact)}</a>'


def _page(facts: PageFacts, *, title: str, body: list[str]) -> str:
    footer = text("footer_operator", operator=facts.operator) if facts.operator else text("footer")
    links = (
        (INSTALL_PATH, text("nav_install")),
        (PRIVACY_PATH, text("nav_privacy")),
        (SUPPORT_PATH, text("nav_support")),
    )
    nav = "".join(f'<li><a href="{path}">{_e(label)}</a></li>' for path, label in links)
    site = _e(text("site"))
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)} · {site}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            f'<a class="skip" href="#main">{_e(text("skip"))}</a>',
            "<header>",
            f'<p class="site">{site}</p>',
            f'<nav aria-label="{_e(text("nav_label"))}"><ul>{nav}</ul></nav>',
            "</header>",
            '<main id="main" tabindex="-1">',
            *body,
            "</main>",
            f"<footer><p>{_e(footer)}</p></footer>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _inline(value: str) -> str:
    """Slack's mrkdwn as HTML: *bold* and `code`, everything else escaped."""
    escaped = _e(value)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<strong>\1</strong>", escaped)


def _h(level: int, value: str) -> str:
    return f"<h{level}>{_e(value)}</h{level}>"


def _p(value: str) -> str:
    return f"<p>{_inline(value)}</p>"


def _paragraphs(value: str) -> list[str]:
    return [_p(line) for line in value.splitlines() if line.strip()]


def _bullets(value: str) -> str:
    items = [line.strip().removeprefix("•").strip() for line in value.splitlines() if line.strip()]
    return "<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>"
