"""What a prompt is built from, and what it comes back as: frozen values, no dicts.

The caller (the LLM proposer) gathers these from the archive, the store and the evaluator's
results; the builder in ``agent.prompting`` only renders them, so it needs neither.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from agent.llm.types import ChatMessage
from agent.prompts import Snippet
from evaluator.types import ShapeMetrics
from kernels.problem import Problem


class EditMode(str, Enum):
    """How the writer is asked to answer: a whole new file, or SEARCH/REPLACE edits of the parent."""

    FULL = "full"
    DIFF = "diff"


@dataclass(frozen=True)
class ShapeLine:
    """One shape's measurements as a prompt quotes them; None where nothing was measured."""

    shape: str
    median_us: float | None = None
    ref_median_us: float | None = None
    speedup: float | None = None
    max_abs_err: float | None = None
    peak_mem_bytes: int | None = None
    achieved_gbps: float | None = None
    achieved_tflops: float | None = None
    peak_fraction: float | None = None
    interpreted: bool = False

    @classmethod
    def from_metrics(cls, metrics: ShapeMetrics) -> ShapeLine:
        return cls(
            shape=metrics.shape,
            median_us=metrics.median_us,
            ref_median_us=metrics.ref_median_us,
            speedup=metrics.speedup,
            max_abs_err=metrics.max_abs_err,
            peak_mem_bytes=metrics.peak_mem_bytes,
            achieved_gbps=metrics.achieved_gbps,
            achieved_tflops=metrics.achieved_tflops,
            peak_fraction=metrics.peak_fraction,
            interpreted=metrics.interpreted,
        )

    def render(self) -> str:
        """``small: 12.3 us against the reference's 40.1 us (3.26x); max_abs_err 1.19e-07; ...``"""
        if self.interpreted:
            timing = "interpreted on the CPU (checked for correctness only, not timed)"
        elif self.median_us is None:
            timing = "not timed"
        else:
            timing = format_us(self.median_us)
            if self.ref_median_us is not None:
                timing += f" against the reference's {format_us(self.ref_median_us)}"
            if self.speedup is not None:
                timing += f" ({self.speedup:.2f}x)"
        parts = [f"{self.shape}: {timing}"]
        if self.max_abs_err is not None:
            parts.append(f"max_abs_err {self.max_abs_err:.3g}")
        if self.peak_mem_bytes is not None:
            parts.append(f"peak memory {format_bytes(self.peak_mem_bytes)}")
        if self.achieved_gbps is not None:
            parts.append(f"{self.achieved_gbps:.0f} GB/s")
        if self.achieved_tflops is not None:
            parts.append(f"{self.achieved_tflops:.2f} TFLOP/s")
        if self.peak_fraction is not None:
            parts.append(f"{self.peak_fraction:.0%} of the device's peak")
        return "; ".join(parts)


def summarize_metrics(lines: Sequence[ShapeLine]) -> str:
    """A one-line summary for an inspiration: per-shape speedups, their geometric mean, the worst error."""
    speedups = [(line.shape, line.speedup) for line in lines if line.speedup is not None]
    parts = []
    if speedups:
        mean = math.exp(sum(math.log(s) for _, s in speedups) / len(speedups))
        per_shape = ", ".join(f"{name} {s:.2f}x" for name, s in speedups)
        parts.append(f"{mean:.2f}x geometric mean ({per_shape})")
    elif any(line.interpreted for line in lines):
        parts.append("correct under the CPU interpreter, not timed")
    errors = [line.max_abs_err for line in lines if line.max_abs_err is not None]
    if errors:
        parts.append(f"max_abs_err {max(errors):.3g}")
    return "; ".join(parts) or "no measurements"


def format_us(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.2f} ms"
    return f"{value:.2f} us" if value < 10 else f"{value:.1f} us"


def format_bytes(value: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} B"


@dataclass(frozen=True)
class ProblemBrief:
    """The problem: its name, the reference source (``Model``) and a description of its shapes."""

    name: str
    reference_source: str
    shapes: str

    @classmethod
    def from_problem(cls, problem: Problem, device: str) -> ProblemBrief:
        """The brief of a loaded problem, describing the shapes it declares for ``device``."""
        described = []
        for shape in problem.shapes_for(device):
            sizes = ", ".join(f"{k}={v}" for k, v in shape.sizes.items())
            described.append(f"{shape.name} ({sizes})" if sizes else shape.name)
        scaled = " (scaled down from the file's own sizes)" if problem.scaled_down else ""
        return cls(problem.name, problem.source, f"{'; '.join(described)}{scaled}")


@dataclass(frozen=True)
class ParentBrief:
    """The candidate to improve, with its measurements and the profiler's view of it."""

    source: str
    metrics: tuple[ShapeLine, ...] = ()
    profile_summary: str | None = None
    roofline: str | None = None
    label: str | None = None  # how the archive names it, e.g. its candidate hash
    config: str | None = None  # the CONFIG it was measured under, as ``Config.__str__`` writes it


@dataclass(frozen=True)
class Inspiration:
    """Another archive cell's candidate: a different approach worth borrowing from."""

    label: str
    source: str
    metrics: str  # one line, e.g. from ``summarize_metrics``


@dataclass(frozen=True)
class FailureNote:
    """A recent failure: the evaluator's status and its ``reason`` string, which the model can act on."""

    label: str
    status: str
    reason: str


@dataclass(frozen=True)
class DeviceFacts:
    """What is known of the target device; every fact is optional."""

    name: str | None = None
    sms: int | None = None
    mem_bandwidth_gbps: float | None = None
    peak_tflops: float | None = None
    l2_bytes: int | None = None


@dataclass(frozen=True)
class PromptInputs:
    """Everything one prompt carries. ``failures`` are most recent first; ``inspirations`` best first.

    ``guidance_ids`` picks guidance snippets by id, in that order; None includes them all.
    ``tips`` go in the user message, so the system message stays a prefix an endpoint can cache.
    """

    problem: ProblemBrief
    parent: ParentBrief | None = None
    inspirations: tuple[Inspiration, ...] = ()
    failures: tuple[FailureNote, ...] = ()
    device: DeviceFacts | None = None
    judge_advice: str | None = None
    guidance_ids: tuple[str, ...] | None = None
    edit_mode: EditMode = EditMode.FULL
    tips: tuple[Snippet, ...] = ()  # optimization ideas, chosen by their record in this run


@dataclass(frozen=True)
class BuiltPrompt:
    """The messages to send, their estimated size, and every cut made to fit the budget, in order."""

    messages: tuple[ChatMessage, ...]
    estimated_tokens: int
    cuts: tuple[str, ...] = ()
