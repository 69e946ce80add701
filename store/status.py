"""The lifecycle of a run, as stored in ``runs.status``."""

from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    """Where a run is. A ``str`` enum so it compares equal to the stored text."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def terminal(self) -> bool:
        """A terminal run has a ``finished_at``; only re-queueing brings it back."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED}
)
