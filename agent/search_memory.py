"""What the LLM proposer's search keeps between calls: its islands and its tips.

Both are functions of what the store keeps, so a resumed run rebuilds them exactly: the island a
writer call drew its parent from and the tips its prompt carried are recorded with the call, an
evolved tip is the recorded answer of a meta call, and migrations are recorded as they happen.
Not thread-safe: the proposer calls it under its own lock.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from agent.archive import Archive
from agent.calls import CallLog
from agent.islands import IslandModel, IslandSettings
from agent.tips import TipPool, parse_tip
from evaluator.types import EvalResult
from kernels.candidate import Candidate
from kernels.provenance import CallRecord, CallResult

RECENT_IMPROVEMENTS = 8


@dataclass(frozen=True)
class WriterTurn:
    """The next writer call's place in the search: its island, and whether a meta call goes first."""

    island: int
    meta: bool


class SearchMemory:
    """Islands and tips of one run, fed by results and by the calls that wrote candidates."""

    def __init__(
        self, islands: IslandSettings, *, tips_per_prompt: int, tip_evolution_every: int, rng: random.Random
    ) -> None:
        self.islands = IslandModel(islands)
        self.tips = TipPool(per_prompt=tips_per_prompt, rng=rng)
        self.improvements: list[str] = []  # recent wins over a parent, for the meta prompt
        self._evolve_every = tip_evolution_every
        self._writer_calls = 0
        self._call_island: dict[str, int] = {}  # candidate hash -> island of the call that wrote it
        self._call_tips: dict[str, tuple[str, ...]] = {}  # candidate hash -> its prompt's tips
        self._latency: dict[str, float | None] = {}  # candidate hash -> its latency, for tip credit
        self._unplaced: list[str] = []  # hashes observed since the islands last saw the archive

    def restore(self, earlier: Sequence[CallRecord], log: CallLog) -> None:
        """What earlier calls of this run decided: writer islands and tips, evolved tips, migrations."""
        self._writer_calls = sum(1 for c in earlier if c.role == "writer")
        for call in earlier:
            if call.candidate_hash:
                self.wrote(call.candidate_hash, call.island, call.tips)
            if call.role == "meta" and call.outcome == CallResult.OK.value:
                tip = parse_tip(call.response)
                if tip is not None:
                    self.tips.add(tip)
        for migration in log.migrations():
            self.islands.record_migration(migration)

    def next_turn(self, archive: Archive, log: CallLog) -> WriterTurn:
        """Make the migrations now due (recorded in ``log``) and place the next writer call."""
        for migration in self.islands.due_migrations(self._writer_calls):
            self.islands.record_migration(migration, archive)
            log.record_migration(migration)
        calls = self._writer_calls
        self._writer_calls += 1
        meta = self._evolve_every > 0 and calls > 0 and calls % self._evolve_every == 0
        return WriterTurn(calls % self.islands.settings.islands, meta)

    def wrote(self, candidate_hash: str, island: int | None, tips: tuple[str, ...]) -> None:
        """A call wrote this candidate, from a parent of ``island``, under ``tips``."""
        if island is not None:
            self._call_island[candidate_hash] = island
        if tips:
            self._call_tips[candidate_hash] = tips

    def observe(self, candidate: Candidate, result: EvalResult) -> None:
        island = self._call_island.get(candidate.hash)
        if island is not None:
            self.islands.assign(candidate.family, island)
        self._unplaced.append(candidate.hash)
        self._credit_tips(candidate, result)

    def catch_up(self, archive: Archive) -> None:
        """Put the results observed since the last proposal on their islands (they need the
        archive's entries, which ``observe`` does not see)."""
        for candidate_hash in self._unplaced:
            entry = archive.by_hash(candidate_hash)
            if entry is not None:
                self.islands.place(entry)
        self._unplaced.clear()

    def _credit_tips(self, candidate: Candidate, result: EvalResult) -> None:
        """A candidate written under tips credits them when it is ok and beats its parent (or is
        ok where the parent had no timing to beat)."""
        latency = result.latency_us if result.ok else None
        self._latency[candidate.hash] = latency
        tips = self._call_tips.get(candidate.hash)
        if not tips:
            return
        before = self._latency.get(candidate.parent_hash) if candidate.parent_hash else None
        improved = result.ok and (before is None or (latency is not None and latency < before))
        self.tips.credit(tips, improved)
        if improved and before is not None and latency:
            note = f"{candidate.hash[:12]} under {', '.join(tips)}: {before / latency:.2f}x over its parent"
            self.improvements = [note, *self.improvements[: RECENT_IMPROVEMENTS - 1]]
