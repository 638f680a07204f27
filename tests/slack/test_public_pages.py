"""The public pages of `reflect run --http` (install, privacy notice, support): served by the
real HTTP server, and checked in a real headless Chromium from the system's packages (Debian's
`chromium` and `chromium-driver`; nothing is downloaded): the language, landmarks and heading
order, every link reached and visibly focused by keyboard alone, the contrast of every piece of
text computed from the browser's computed styles, and that the privacy notice states what the
Home tab states, with the same retention period as the settings.

Without Chromium and its driver the browser tests are skipped, saying so; `.ci/run` installs
both, so CI always runs them.
"""

from __future__ import annotations

import itertools
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.settings import Settings
from bot.slack.pages.render import INSTALL_PATH, PRIVACY_PATH, SLACK_INSTALL_PATH, SUPPORT_PATH
from bot.slack.serving.http import HttpServer
from bot.slack.serving.launch import public_pages
from bot.slack.views import copy
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import make_bot, settings_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PAGES = (INSTALL_PATH, PRIVACY_PATH, SUPPORT_PATH)
#: Not the default (365), so that the page can only have it from the settings.
RETENTION_DAYS = 200
#: WCAG 2.2 AA: 4.5:1 for text (all of it, to be safe), 3:1 for a focus indicator.
TEXT_CONTRAST = 4.5
FOCUS_CONTRAST = 3.0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The pages behind the real HTTP server, as `reflect run --http` serves them."""
    fake = FakeSlack().start()
    settings: dict[str, Any] = {
        "retention_days": RETENTION_DAYS,
        "operator_name": "Hillside Schools Trust",
        "support_contact": "reflect-help@hillside-trust.org.uk",
    }
    bot = make_bot(fake, tmp_path_factory.mktemp("pages"), **settings)
    pages = public_pages(settings_for(fake, **settings), bot.conversations)
    server = HttpServer(app=bot.app, host="127.0.0.1", port=0, threads=2, pages=pages)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop(wait=5)
    bot.close()
    fake.stop()


# ---------------------------------------------------------------------- over plain HTTP


def test_the_pages_are_served_plain_and_lock_everything_else_out(site: str) -> None:
    for path in PAGES:
        response = httpx.get(site + path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        page = response.text
        assert page.startswith("<!doctype html>") and '<html lang="en">' in page
        assert "<script" not in page.lower() and not re.search(r"\son\w+=", page)
        assert "http://" not in page and "https://" not in page  # nothing loads from elsewhere
        head = httpx.head(site + path)
        assert head.status_code == 200 and head.content == b""
    assert httpx.get(site + "/privacy.html").status_code == 404
    assert httpx.post(site + PRIVACY_PATH).status_code == 404
    install = httpx.get(site + INSTALL_PATH).text
    assert f'href="{SLACK_INSTALL_PATH}"' in install
    privacy = httpx.get(site + PRIVACY_PATH).text
    assert f"erased after {RETENTION_DAYS} days" in privacy  # checked in a browser below too


def test_the_readme_states_the_same_default_retention_as_the_settings() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    days = Settings().retention_days
    assert f"Reflections are deleted after {days} days" in readme
    # The Home tab (and so the privacy notice) has no number of its own: it is the setting's.
    assert "reflections are erased after {days} days" in copy.text("home.privacy")


# ---------------------------------------------------------------------- in Chromium

_missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
except ImportError:  # pragma: no cover - selenium is in the dev extras
    _missing.append("the selenium package (pip install -e '.[dev]')")

browser_test = pytest.mark.skipif(
    bool(_missing),
    reason=(
        f"browser tests skipped: {', '.join(_missing)} not found. Install Debian's chromium and "
        "chromium-driver (apt-get install chromium chromium-driver) to run them; .ci/run does."
    ),
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium from the system, driven by the system's chromedriver."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@browser_test
@pytest.mark.parametrize("path", PAGES)
def test_language_landmarks_and_headings_in_order(browser: Any, site: str, path: str) -> None:
    browser.get(site + path)
    assert browser.execute_script("return document.documentElement.lang") == "en"
    assert browser.title.strip()
    for landmark in ("header", "nav", "main", "footer"):
        assert browser.execute_script(f"return document.querySelectorAll('{landmark}').length") == 1
    levels = browser.execute_script(
        "return [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => Number(h.tagName[1]))"
    )
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"a heading level skipped: {levels}"
    in_main = browser.execute_script("return document.querySelector('main h1') !== null")
    assert in_main


@browser_test
@pytest.mark.parametrize("path", PAGES)
def test_every_link_is_reached_and_visibly_focused_by_keyboard(
    browser: Any, site: str, path: str
) -> None:
    browser.get(site + path)
    links = browser.execute_script("return [...document.querySelectorAll('a[href]')]")
    assert links
    reached = []
    for _ in range(len(links) + 1):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        if focused.tag_name != "a":
            break
        reached.append(focused)
        ring = browser.execute_script(
            "const s = getComputedStyle(arguments[0]);"
            "return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor,"
            " parseFloat(s.outlineOffset), arguments[0].parentElement];",
            focused,
        )
        assert ring[0] != "none" and ring[1] >= 2, f"no visible focus on {focused.text!r}"
        # A ring drawn outside the link (offset) is seen against what is around it.
        behind = _background(browser, ring[4] if ring[3] > 0 else focused)
        assert _contrast(_rgb(ring[2]), behind) >= FOCUS_CONTRAST
        assert focused.is_displayed() and focused.size["width"] > 0
    assert [link.get_attribute("href") for link in reached] == [
        link.get_attribute("href") for link in links
    ]
    # The skip link, first in the order, takes the keyboard to the content.
    browser.get(site + path)
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "main"


@browser_test
def test_add_to_slack_is_a_link_to_the_install_route(browser: Any, site: str) -> None:
    browser.get(site + INSTALL_PATH)
    button = browser.execute_script("return document.querySelector('main a.button')")
    assert button.get_attribute("href") == site + SLACK_INSTALL_PATH
    assert button.text.strip() == "Add to Slack"


@browser_test
@pytest.mark.parametrize("path", PAGES)
def test_all_text_has_enough_contrast(browser: Any, site: str, path: str) -> None:
    browser.get(site + path)
    ActionChains(browser).send_keys(Keys.TAB).perform()  # the skip link shown, and checked too
    pieces = browser.execute_script(
        """
        const found = [];
        for (const el of document.querySelectorAll('body *')) {
          const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
          const box = el.getBoundingClientRect();
          if (!own || box.width === 0 || box.height === 0 || box.right < 0) continue;
          found.push(el);
        }
        return found;
        """
    )
    assert len(pieces) > 5
    for element in pieces:
        colour = _rgb(
            browser.execute_script("return getComputedStyle(arguments[0]).color", element)
        )
        ratio = _contrast(colour, _background(browser, element))
        assert ratio >= TEXT_CONTRAST, f"{element.tag_name} {element.text[:40]!r}: {ratio:.2f}:1"


@browser_test
def test_the_privacy_notice_says_what_the_home_tab_says(browser: Any, site: str) -> None:
    browser.get(site + PRIVACY_PATH)
    page = " ".join(browser.find_element("tag name", "main").text.split())
    home = copy.text("home.privacy", min_group=5, days=RETENTION_DAYS)
    for bullet in home.splitlines():
        plain = " ".join(bullet.removeprefix("•").replace("*", "").replace("`", "").split())
        assert plain in page
    assert f"erased after {RETENTION_DAYS} days" in page
    assert f"erased {RETENTION_DAYS} days after they are finished" in page
    assert not re.search(r"\b(?!200\b)\d{2,3} days", page), "a retention other than the setting"
    headings = [h.text for h in browser.find_elements("tag name", "h2")]
    assert {"Where it is kept", "How long", "How to erase it"} <= set(headings)
    assert "Hillside Schools Trust" in page


@browser_test
def test_the_support_page_gives_the_contact_and_the_crisis_services(
    browser: Any, site: str
) -> None:
    browser.get(site + SUPPORT_PATH)
    link = browser.execute_script("return document.querySelector('main a[href^=\"mailto:\"]')")
    assert link.get_attribute("href") == "mailto:reflect-help@hillside-trust.org.uk"
    services = browser.execute_script(
        "return [...document.querySelectorAll('main li strong')].map(e => e.textContent)"
    )
    assert services[0] == "Samaritans (UK and Ireland)" and len(services) >= 5


def _background(browser: Any, element: Any) -> tuple[float, float, float]:
    """The first opaque background behind `element` (white: the canvas)."""
    colours = browser.execute_script(
        "const found = []; for (let e = arguments[0]; e; e = e.parentElement)"
        " found.push(getComputedStyle(e).backgroundColor); return found;",
        element,
    )
    for colour in colours:
        parts = _parts(colour)
        if len(parts) < 4 or parts[3] > 0:
            return parts[0], parts[1], parts[2]
    return 255.0, 255.0, 255.0


def _parts(css: str) -> list[float]:
    return [float(n) for n in re.findall(r"[\d.]+", css)]


def _rgb(css: str) -> tuple[float, float, float]:
    red, green, blue = _parts(css)[:3]
    return red, green, blue


def _contrast(one: tuple[float, float, float], two: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(colour: tuple[float, float, float]) -> float:
        def channel(value: float) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        red, green, blue = (channel(v) for v in colour)
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
