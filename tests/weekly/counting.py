"""A store whose transactions and statements are counted (for the weekly tables, which reach
the database only through `reading()` and `writing()`): what a sender or planner costs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any


class Counted:
    """`store`'s transactions, counted (`reads`, `writes`), with every statement run in them
    counted too (`statements`)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.keyring = store.keyring
        self.sql_dialect = getattr(store, "sql_dialect", "sqlite")
        self.counts: Counter[str] = Counter()

    @contextmanager
    def _wrap(self, kind: str, inner: AbstractContextManager[Any]) -> Iterator[Any]:
        self.counts[kind] += 1
        with inner as conn:
            yield _Statements(conn, self.counts)

    def reading(self) -> AbstractContextManager[Any]:
        return self._wrap("reads", self.store.reading())

    def writing(self) -> AbstractContextManager[Any]:
        return self._wrap("writes", self.store.writing())


class _Statements:
    def __init__(self, conn: Any, counts: Counter[str]) -> None:
        self._conn = conn
        self._counts = counts

    def execute(self, sql: Any, params: Any = None) -> Any:
        self._counts["statements"] += 1
        return self._conn.execute(sql, params) if params is not None else self._conn.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)
