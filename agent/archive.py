"""The archive: every evaluated candidate of a run, with its bests and its Pareto front.

Ranking follows the design's rule that untimed numbers never enter speed rankings: a
candidate is ranked by latency only when it is ok and really timed (not interpreted).
A family that has only untimed ok results (Triton under the CPU interpreter) still gets a
best, the one with the lowest error, so a CPU-only run has something to show and export.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

from evaluator.types import EvalResult, Status
from kernels.candidate import Candidate
from kernels.pareto import Point, dominates, pareto_front


@dataclass(frozen=True)
class ArchiveEntry:
    """One evaluated candidate, under the id the recorder gave it."""

    candidate_id: int
    candidate: Candidate
    result: EvalResult

    @property
    def timed(self) -> bool:
        """Ok and really timed: the only results that may enter speed rankings."""
        return self.result.ok and self.result.latency_us is not None


RankKey = tuple[int, float, float, int]


def rank_key(entry: ArchiveEntry) -> RankKey | None:
    """Sort key for "best" (lower is better); None when the entry cannot be a best at all.

    Timed results come first, by latency then error; untimed ok results follow, by error.
    The candidate id breaks ties, so the earliest of equals wins.
    """
    result = entry.result
    if not result.ok:
        return None
    error = result.max_error if result.max_error is not None else math.inf
    latency = result.latency_us
    if latency is not None:
        return (0, latency, error, entry.candidate_id)
    return (1, error, 0.0, entry.candidate_id)


def objectives(entry: ArchiveEntry) -> tuple[float, float, float]:
    """(latency_us, max_error, peak_mem_bytes), all minimized; an unknown value counts as worst."""
    result = entry.result
    latency = result.latency_us
    error = result.max_error
    memory = result.peak_mem_bytes
    return (
        latency if latency is not None else math.inf,
        error if error is not None else math.inf,
        float(memory) if memory is not None else math.inf,
    )


class Archive:
    """Evaluated candidates of one run, keyed by candidate id."""

    def __init__(self) -> None:
        self._entries: dict[int, ArchiveEntry] = {}
        self._ids: dict[str, int] = {}  # candidate hash -> id
        self._family_best: dict[str, ArchiveEntry] = {}
        # The front as points, kept up to date one insertion at a time (a replaced result
        # rebuilds it): at 10k candidates a rebuild per result would dominate an iteration.
        self._front: list[Point[ArchiveEntry]] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> list[ArchiveEntry]:
        """All entries, in candidate-id order."""
        return [self._entries[k] for k in sorted(self._entries)]

    def by_hash(self, candidate_hash: str) -> ArchiveEntry | None:
        """The entry of a candidate by its hash, if it has a result."""
        candidate_id = self._ids.get(candidate_hash)
        return self._entries[candidate_id] if candidate_id is not None else None

    def update(self, candidate_id: int, candidate: Candidate, result: EvalResult) -> ArchiveEntry:
        """Add a result; a second result for the same id replaces the first."""
        entry = ArchiveEntry(candidate_id, candidate, result)
        replaced = candidate_id in self._entries
        self._entries[candidate_id] = entry
        self._ids[candidate.hash] = candidate_id
        if replaced:
            self._front = None
        elif self._front is not None and entry.timed:
            self._front = _inserted(self._front, Point(entry, objectives(entry)))
        if replaced:
            self._family_best = {}
            for existing in self.entries:
                self._offer(existing)
        else:
            self._offer(entry)
        return entry

    def _offer(self, entry: ArchiveEntry) -> None:
        key = rank_key(entry)
        if key is None:
            return
        family = entry.candidate.family
        current = self._family_best.get(family)
        if current is None or key < _key(current):
            self._family_best[family] = entry

    def best_by_family(self) -> dict[str, ArchiveEntry]:
        """The best entry of each family that has any ok result, by family name."""
        return dict(sorted(self._family_best.items()))

    def best_in(self, family: str) -> ArchiveEntry | None:
        return self._family_best.get(family)

    def best(self) -> ArchiveEntry | None:
        """The best entry overall, by the same rule as per family."""
        bests = list(self._family_best.values())
        return min(bests, key=_key) if bests else None

    def pareto(self) -> list[ArchiveEntry]:
        """Non-dominated ok, timed entries over (latency, error, memory), fastest first."""
        if self._front is None:
            self._front = pareto_front([Point(e, objectives(e)) for e in self.entries if e.timed])
        return [p.item for p in sorted(self._front, key=lambda p: p.values)]

    def select(self, rng: random.Random) -> ArchiveEntry | None:
        """A parent for the next proposal: uniform over the Pareto front and the family bests.

        The front keeps trade-offs alive (a slower but more accurate kernel may evolve into
        the winner); family bests keep every structural idea in play. None when nothing is ok.
        """
        pool = {e.candidate_id: e for e in self.pareto()}
        pool.update({e.candidate_id: e for e in self._family_best.values()})
        if not pool:
            return None
        return pool[rng.choice(sorted(pool))]

    def status_counts(self) -> dict[Status, int]:
        """How many entries ended in each status (statuses never seen are left out)."""
        counts = Counter(e.result.status for e in self._entries.values())
        return {status: counts[status] for status in Status if counts[status]}


def _inserted(front: list[Point[ArchiveEntry]], point: Point[ArchiveEntry]) -> list[Point[ArchiveEntry]]:
    """The front with one more point, by ``pareto_front``'s rule (exact ties keep the first seen)."""
    if any(dominates(other.values, point.values) or other.values == point.values for other in front):
        return front
    return [*(other for other in front if not dominates(point.values, other.values)), point]


def _key(entry: ArchiveEntry) -> RankKey:
    key = rank_key(entry)
    assert key is not None, "only rankable entries are kept as bests"
    return key
