"""What a run's readers ask for again and again, kept while the run's count of verdicts holds.

A verdict is written once and never changed or deleted, so while a run's count of verdicts stays
the same its results are the same, and so are its Pareto front, its best candidate and its
tallies. The count is one column of the run's row. The values kept are frozen records and
numbers, so the threads of one process (the API's, the dashboard's) share them safely.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class _RunEntry:
    verdicts: int
    values: dict[str, Any] = field(default_factory=dict)


class RunReadCache:
    """Named values per run, for the ``runs`` most recently read runs."""

    def __init__(self, runs: int = 64) -> None:
        self._runs = runs
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, _RunEntry] = OrderedDict()

    def get(self, run_id: int, verdicts: int, name: str, compute: Callable[[], T]) -> T:
        """The value ``name`` of the run at this count of verdicts, computed on the first ask.
        Two threads may both compute it; they get the same answer."""
        entry = self._entry(run_id, verdicts)
        if name not in entry.values:
            entry.values[name] = compute()
        value: T = entry.values[name]
        return value

    def _entry(self, run_id: int, verdicts: int) -> _RunEntry:
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is None or entry.verdicts != verdicts:
                entry = self._entries[run_id] = _RunEntry(verdicts)
            self._entries.move_to_end(run_id)
            while len(self._entries) > self._runs:
                self._entries.popitem(last=False)
            return entry
