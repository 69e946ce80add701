"""A folder of problems judged as one batch, with KernelBench's scores.

For each problem the batch keeps one ``ProblemOutcome``: whether a correct candidate was found
(or given), its speedup over the reference, and its share of the device's peak. ``summarize``
turns them into the figures KernelBench reports: the correctness rate, the geometric-mean
speedup of the correct ones, and ``fast_p``, the share of *all* problems that are both correct
and faster than the reference by more than ``p`` (so ``fast_0`` is the correctness rate), for p
in 0, 1, 1.5 and 2. A problem that could not be loaded or judged counts as not correct: the
denominator is always every problem in the folder.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kernels.errors import CrucibleError

FAST_P = (0.0, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class ProblemOutcome:
    problem: str  # the file's stem
    path: Path
    status: str  # the verdict's status, or why there is none: bad_problem, no_candidate, queued...
    correct: bool
    speedup: float | None  # over the reference, where timed
    peak_fraction: float | None  # the mean share of the device's peak over its shapes, where measured
    reason: str = ""
    run_id: int | None = None
    candidate_id: int | None = None
    speedup_vs_compiled: float | None = None  # over torch.compile of the reference, where timed


@dataclass(frozen=True)
class BatchSummary:
    outcomes: tuple[ProblemOutcome, ...]
    correctness: float
    geomean_speedup: float | None  # over the correct, timed problems
    fast_p: dict[str, float]  # "fast_1.5" -> share of all problems
    roofline_share: float | None  # mean peak share over the problems that measured one
    # The same two scores against torch.compile of the reference, over the problems that timed it.
    geomean_vs_compiled: float | None = None
    fast_p_vs_compiled: dict[str, float] | None = None


def problem_files(folder: Path) -> list[Path]:
    """The problem files of a folder: its ``*.py`` files, sorted (``NAME_variants/`` folders hold
    a problem's variant families and are not problems)."""
    if not folder.is_dir():
        raise CrucibleError(f"{folder} is not a folder of problem files")
    files = sorted(p for p in folder.glob("*.py") if p.is_file() and not p.name.startswith("_"))
    if not files:
        raise CrucibleError(f"{folder} holds no problem files (*.py)")
    return files


def summarize(outcomes: Sequence[ProblemOutcome]) -> BatchSummary:
    correct = [o for o in outcomes if o.correct]
    shares = [o.peak_fraction for o in correct if o.peak_fraction is not None]
    compiled = any(o.speedup_vs_compiled is not None for o in correct)
    return BatchSummary(
        outcomes=tuple(outcomes),
        correctness=len(correct) / len(outcomes) if outcomes else 0.0,
        geomean_speedup=_geomean([o.speedup for o in correct]),
        fast_p=_fast_p(outcomes, lambda o: o.speedup),
        roofline_share=sum(shares) / len(shares) if shares else None,
        geomean_vs_compiled=_geomean([o.speedup_vs_compiled for o in correct]) if compiled else None,
        fast_p_vs_compiled=_fast_p(outcomes, lambda o: o.speedup_vs_compiled) if compiled else None,
    )


def _geomean(values: Sequence[float | None]) -> float | None:
    timed = [v for v in values if v is not None and v > 0]
    return math.exp(sum(math.log(v) for v in timed) / len(timed)) if timed else None


def _fast_p(
    outcomes: Sequence[ProblemOutcome], speedup: Callable[[ProblemOutcome], float | None]
) -> dict[str, float]:
    """KernelBench's fast_p over every problem: correct, and (for p > 0) timed faster than the
    baseline by more than p."""
    total = len(outcomes)

    def fast(o: ProblemOutcome, p: float) -> bool:
        value = speedup(o)
        return o.correct and (p == 0 or (value is not None and value > p))

    return {f"fast_{p:g}": (sum(1 for o in outcomes if fast(o, p)) / total if total else 0.0) for p in FAST_P}
