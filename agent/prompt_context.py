"""What the writer is shown about the run so far: a parent, inspirations, and recent failures.

The islands decide who the parent is and which elites inspire it (``agent.islands``: MAP-Elites
grids, drawn from by an exploitation/exploration mix); this module turns that choice, the tips
chosen for the prompt, and what the evaluator said about earlier candidates, into
``PromptInputs``. Before anything passed, the parent is the reference itself, renamed as a
candidate, so a plain KernelBench file with no families still has something to improve.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from agent.archive import Archive, ArchiveEntry
from agent.islands import IslandModel
from agent.prompt_types import (
    DeviceFacts,
    EditMode,
    FailureNote,
    Inspiration,
    ParentBrief,
    ProblemBrief,
    PromptInputs,
    ShapeLine,
    summarize_metrics,
)
from agent.prompts import Snippet
from evaluator.types import EvalResult, Status
from kernels.candidate import Candidate

MAX_FAILURES = 4
MAX_INSPIRATIONS = 2


@dataclass(frozen=True)
class Parent:
    """The candidate a proposal builds on, and the island it was drawn for; None fields for the
    reference itself."""

    source: str
    hash: str | None
    entry: ArchiveEntry | None
    island: int = 0


def reference_as_candidate(reference_source: str) -> str:
    """The reference module with ``Model`` renamed ``ModelNew``: a correct first parent."""
    return reference_source.replace("class Model(", "class ModelNew(", 1)


class PromptContext:
    """Builds the writer's inputs from the archive and keeps the recent failures to show."""

    def __init__(self, problem: ProblemBrief, device: DeviceFacts | None, rng: random.Random) -> None:
        self.problem = problem
        self.device = device
        self.rng = rng
        self.failures: deque[FailureNote] = deque(maxlen=MAX_FAILURES)

    def note_failure(self, label: str, status: str, reason: str) -> None:
        """A failure the next prompts should show, most recent first."""
        self.failures.appendleft(FailureNote(label, status, reason))

    def note_result(self, candidate: Candidate, result: EvalResult) -> None:
        if result.status is not Status.OK:
            self.note_failure(candidate.hash[:12], result.status.value, result.reason)
        elif result.suspect:
            self.note_failure(candidate.hash[:12], "suspect", result.verification or result.reason)

    def choose_parent(self, archive: Archive, islands: IslandModel, island: int) -> Parent:
        entry = islands.select(island, archive, self.rng)
        if entry is None:
            return Parent(reference_as_candidate(self.problem.reference_source), None, None, island)
        return Parent(entry.candidate.source, entry.candidate.hash, entry, island)

    def inputs(
        self,
        archive: Archive,
        parent: Parent,
        islands: IslandModel,
        *,
        tips: tuple[Snippet, ...] = (),
        judge_advice: str | None = None,
    ) -> PromptInputs:
        entry = parent.entry
        brief = ParentBrief(
            source=parent.source,
            metrics=_lines(entry.result) if entry else (),
            profile_summary=entry.result.profile.summary if entry and entry.result.profile else None,
            roofline=_roofline(entry.result) if entry else None,
            label=parent.hash[:12] if parent.hash else "the reference, as ModelNew",
            config=str(entry.candidate.config) if entry and entry.candidate.config.as_dict() else None,
        )
        # Edits need a parent the model can quote; the reference is better rewritten whole.
        mode = EditMode.DIFF if entry is not None and self.rng.random() < 0.5 else EditMode.FULL
        return PromptInputs(
            problem=self.problem,
            parent=brief,
            inspirations=self._inspirations(archive, parent, islands),
            failures=tuple(self.failures),
            device=self.device,
            judge_advice=judge_advice,
            edit_mode=mode,
            tips=tips,
        )

    def _inspirations(
        self, archive: Archive, parent: Parent, islands: IslandModel
    ) -> tuple[Inspiration, ...]:
        """Up to two elites of other cells than the parent's, its own island's first; before the
        islands hold any, the best of other families: other ideas that worked."""
        picked = islands.inspirations(parent.island, parent.entry, MAX_INSPIRATIONS, self.rng)
        if not picked:
            family = parent.entry.candidate.family if parent.entry else None
            others = [e for e in archive.best_by_family().values() if e.candidate.family != family]
            picked = self.rng.sample(others, min(MAX_INSPIRATIONS, len(others)))
        return tuple(
            Inspiration(e.candidate.hash[:12], e.candidate.source, summarize_metrics(_lines(e.result)))
            for e in picked
        )


def _lines(result: EvalResult) -> tuple[ShapeLine, ...]:
    return tuple(ShapeLine.from_metrics(s) for s in result.shapes)


def _roofline(result: EvalResult) -> str | None:
    """Where the largest shape sits under the roofline, as the profiler placed it."""
    if result.profile is None or not result.profile.shapes:
        return None
    shape, report = list(result.profile.shapes.items())[-1]
    roof = report.roofline
    parts = []
    if roof.bound:
        parts.append(f"{roof.bound}-bound")
    if roof.memory_fraction is not None:
        parts.append(f"{roof.memory_fraction:.0%} of peak memory bandwidth")
    if roof.compute_fraction is not None:
        parts.append(f"{roof.compute_fraction:.0%} of peak compute")
    return f"shape {shape}: {', '.join(parts)}" if parts else None
