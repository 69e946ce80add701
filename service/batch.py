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
from collections.abc import Sequence
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


@dataclass(frozen=True)
class BatchSummary:
    outcomes: tuple[ProblemOutcome, ...]
    correctness: float
    geomean_speedup: float | None  # over the correct, timed problems
    fast_p: dict[str, float]  # "fast_1.5" -> share of all problems
    roofline_share: float | None  # mean peak share over the problems that measured one


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
    total = len(outcomes)
    correct = [o for o in outcomes if o.correct]
    timed = [o.speedup for o in correct if o.speedup is not None and o.speedup > 0]
    geomean = math.exp(sum(math.log(s) for s in timed) / len(timed)) if timed else None
    fast = {
        f"fast_{p:g}": (sum(1 for o in correct if _faster(o, p)) / total if total else 0.0) for p in FAST_P
    }
    shares = [o.peak_fraction for o in correct if o.peak_fraction is not None]
    return BatchSummary(
        outcomes=tuple(outcomes),
        correctness=len(correct) / total if total else 0.0,
        geomean_speedup=geomean,
        fast_p=fast,
        roofline_share=sum(shares) / len(shares) if shares else None,
    )


def _faster(outcome: ProblemOutcome, p: float) -> bool:
    """KernelBench's fast_p: correct, and (for p > 0) timed faster than the reference by > p."""
    if p == 0:
        return True
    return outcome.speedup is not None and outcome.speedup > p
