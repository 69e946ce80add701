"""``crucible evaluate DIR CANDIDATES_DIR --json`` and ``crucible optimize DIR --json``: a batch's
outcome per problem and its KernelBench scores (``service.batch``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from service.schemas.base import Document

if TYPE_CHECKING:
    from service.batch import BatchSummary, ProblemOutcome


class ProblemOutcomeOut(Document):
    """One problem of a batch: the verdict of its candidate, or why there is none."""

    problem: str = Field(description="the problem file's name, without .py")
    path: str = Field(description="the problem file")
    status: str = Field(description="the verdict's status, or bad_problem, no_candidate, queued")
    correct: bool = Field(description="a candidate passed the evaluator")
    speedup: float | None = Field(description="over the reference, where really timed")
    peak_fraction: float | None = Field(description="mean share of the device's peak over the shapes")
    reason: str = Field(description="the verdict's reason, or why the problem has none")
    speedup_vs_compiled: float | None = Field(description="over torch.compile of the reference, where timed")
    run_id: int | None = Field(description="the run that optimized it (optimize only)")
    candidate_id: int | None = Field(description="the best candidate of that run")

    @classmethod
    def from_outcome(cls, o: ProblemOutcome) -> ProblemOutcomeOut:
        return cls(
            problem=o.problem,
            path=str(o.path),
            status=o.status,
            correct=o.correct,
            speedup=o.speedup,
            speedup_vs_compiled=o.speedup_vs_compiled,
            peak_fraction=o.peak_fraction,
            reason=o.reason,
            run_id=o.run_id,
            candidate_id=o.candidate_id,
        )


class BatchOut(Document):
    """A folder of problems, judged: KernelBench's scores over every problem in it."""

    device: str = Field(description="where the candidates ran")
    problems: int = Field(description="problem files in the folder")
    correctness: float = Field(description="share of problems with a passing candidate")
    geomean_speedup: float | None = Field(description="geometric mean speedup of the correct, timed ones")
    fast_p: dict[str, float] = Field(
        description="fast_0, fast_1, fast_1.5, fast_2: share of all problems correct and faster than p"
    )
    roofline_share: float | None = Field(description="mean share of the device's peak, where measured")
    geomean_vs_compiled: float | None = Field(
        description="geometric mean speedup over torch.compile of the reference, where the runs timed it"
    )
    fast_p_vs_compiled: dict[str, float] | None = Field(
        description="fast_p against torch.compile of the reference"
    )
    outcomes: tuple[ProblemOutcomeOut, ...] = Field(description="one per problem, in file order")

    @classmethod
    def from_summary(cls, summary: BatchSummary, device: str) -> BatchOut:
        return cls(
            device=device,
            problems=len(summary.outcomes),
            correctness=summary.correctness,
            geomean_speedup=summary.geomean_speedup,
            fast_p=dict(summary.fast_p),
            roofline_share=summary.roofline_share,
            geomean_vs_compiled=summary.geomean_vs_compiled,
            fast_p_vs_compiled=summary.fast_p_vs_compiled,
            outcomes=tuple(ProblemOutcomeOut.from_outcome(o) for o in summary.outcomes),
        )
