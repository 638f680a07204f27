"""Work done after the ack, in order per person, off the request thread.

Each person has a lane: jobs for them run one after another, in the order submitted, while
different people's lanes run side by side on a small thread pool. A failing job is logged
(without its details, which may hold ids) and the lane carries on.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

Job = Callable[[], object]


class Lanes:
    def __init__(self, *, workers: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reflect-lane")
        self._queues: dict[str, deque[Job]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def submit(self, key: str, job: Job) -> None:
        """Queue `job` on `key`'s lane; it runs in the submitter's context (e.g. which
        installation it speaks for, bot.slack.delivery.gateway.speaking_for)."""
        job = functools.partial(contextvars.copy_context().run, job)
        with self._lock:
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(job)
                return
            self._queues[key] = deque([job])
        self._pool.submit(self._drain, key)

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    self._idle.notify_all()
                    return
                job = queue.popleft()
            try:
                job()
            except Exception as error:  # a lane must outlive one bad job
                log.error("work after the ack failed: %s", type(error).__name__)

    def wait_idle(self, *, timeout: float = 10.0) -> bool:
        """Wait until every lane is empty; False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._queues, timeout=timeout)

    def close(self) -> None:
        self.wait_idle()
        self._pool.shutdown(wait=True)
