"""The Slack Web API client, pointed at settings.slack_api_url, with our retry handlers."""

from __future__ import annotations

import time

from slack_sdk import WebClient

from bot.settings import Settings
from bot.slack.delivery.retries import Sleep, retry_handlers


def web_client(
    *, settings: Settings, sleep: Sleep = time.sleep, backoff: float = 0.5, timeout: float = 10
) -> WebClient:
    base_url = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else settings.slack_api_url + "/"
    )
    return WebClient(
        token=settings.slack_bot_token,
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]  # urllib takes fractions too
        retry_handlers=retry_handlers(sleep=sleep, backoff=backoff),
    )
