"""How the Web API client rides out trouble: 429s waited out per Retry-After, 5xx and dropped
or timed-out connections retried with backoff. The wait is injectable so tests need not sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

Sleep = Callable[[float], None]
SERVER_ERRORS = (500, 502, 503, 504)


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds to wait, from a Retry-After header (Slack sends whole seconds)."""
    for name, values in headers.items():
        if name.lower() == "retry-after" and values:
            value = values[0] if isinstance(values, list) else values
            try:
                return max(0.0, float(value))
            except ValueError:
                break
    return 1.0 + random.random()


class ShareJitter(Jitter):
    """Up to a quarter of the interval again, so a crowd of retries spreads out but a short
    backoff stays short (slack_sdk's default adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random() / 4)


def backoff_calculator(backoff: float) -> BackoffRetryIntervalCalculator:
    return BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=ShareJitter())


class _SleepsBetweenAttempts:
    """Waits through an injected `sleep` (so tests need not really wait) for as long as
    `_seconds` says, then retries."""

    sleep: Sleep
    interval_calculator: RetryIntervalCalculator

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        seconds = self._seconds(state, response, error)
        state.next_attempt_requested = True
        self.sleep(seconds)
        state.increment_current_attempt()

    def _seconds(
        self, state: RetryState, response: HttpResponse | None, error: Exception | None
    ) -> float:
        """Backoff: exponential in the attempt."""
        return self.interval_calculator.calculate_sleep_duration(state.current_attempt)


class RateLimitWait(_SleepsBetweenAttempts, RateLimitErrorRetryHandler):
    """A 429: wait as long as Retry-After says (whole or fractional seconds), then retry."""

    def __init__(self, *, max_retry_count: int, sleep: Sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    def _seconds(
        self, state: RetryState, response: HttpResponse | None, error: Exception | None
    ) -> float:
        if response is None:
            raise error or RuntimeError("rate limited without a response")
        return retry_after(response.headers)


class ServerErrorBackoff(_SleepsBetweenAttempts, ServerErrorRetryHandler):
    """500, 502, 503 and 504, retried with exponential backoff."""

    def __init__(self, *, max_retry_count: int, backoff: float, sleep: Sleep) -> None:
        super().__init__(max_retry_count, backoff_calculator(backoff))
        self.sleep = sleep

    def _can_retry(self, *, response: HttpResponse | None = None, **_: Any) -> bool:
        return response is not None and response.status_code in SERVER_ERRORS


class ConnectionBackoff(_SleepsBetweenAttempts, ConnectionErrorRetryHandler):
    """Reset, dropped and timed-out connections, retried with exponential backoff."""

    def __init__(self, *, max_retry_count: int, backoff: float, sleep: Sleep) -> None:
        super().__init__(
            max_retry_count,
            backoff_calculator(backoff),
            error_types=[URLError, ConnectionError, RemoteDisconnected, TimeoutError],
        )
        self.sleep = sleep


def retry_handlers(*, sleep: Sleep = time.sleep, backoff: float = 0.5) -> list[RetryHandler]:
    return [
        ConnectionBackoff(max_retry_count=2, backoff=backoff, sleep=sleep),
        RateLimitWait(max_retry_count=5, sleep=sleep),
        ServerErrorBackoff(max_retry_count=3, backoff=backoff, sleep=sleep),
    ]
