"""The MCP tools' own result documents; everything else they return is a shared ``service.schemas``
model (``EvaluateOut``, ``RunStateOut``, ``ParetoOut``, ``CandidateDetailOut``, ``ProblemOut``).

Frozen and strict like every document, so a result means what its published output schema says.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from kernels.candidate import Language, Origin
from service.schemas import ProblemOut
from service.schemas.base import Config, Document

if TYPE_CHECKING:
    from store.kernel_search import KernelHit


class ProblemCreatedOut(Document):
    """``create_problem``: the validated problem, kept under ``name``, and how to use it."""

    name: str = Field(description="the name it is kept under; pass it as `problem` to the other tools")
    created: bool = Field(description="false when the same source was already kept under this name")
    problem: ProblemOut = Field(description="its shapes, as the isolated validator loaded them")
    source_file: Path | None = Field(description="the file it was read from, when a path was given")
    run_with: str = Field(
        description="what to pass to start_run: the name, or the source file's path when variant"
        " families sit beside it (NAME_variants/*.py), which only the path finds"
    )
    families: tuple[str, ...] = Field(
        description="variant families the offline proposer searches when start_run gets run_with"
    )


class KernelSummaryOut(Document):
    """One passing kernel found by ``search_kernels``; ``get_kernel`` has its source and metrics."""

    candidate_id: int = Field(description="pass to get_kernel or apply_kernel")
    run_id: int = Field(description="the run that found it")
    problem: str = Field(description="the problem it solves")
    device: str = Field(description="the device key it was measured on")
    family: str = Field(description="the variant family (or lineage) it came from")
    language: Language = Field(description="triton or pytorch")
    origin: Origin = Field(description="who wrote it")
    config: Config = Field(description="the CONFIG it passed under")
    speedup: float | None = Field(
        description="geometric-mean speedup over the reference; null when not ranked (interpreted)"
    )
    latency_us: float | None = Field(description="geometric mean of the per-shape medians, microseconds")
    max_abs_err: float | None = Field(description="largest absolute error over all shapes")
    interpreted: bool = Field(description="checked under the Triton interpreter only: never ranked")

    @classmethod
    def from_hit(cls, hit: KernelHit) -> KernelSummaryOut:
        record, result = hit.record, hit.record.result
        assert result is not None  # only judged, passing candidates are found
        return cls(
            candidate_id=record.id,
            run_id=record.run_id,
            problem=hit.problem,
            device=hit.device,
            family=record.family,
            language=record.language,
            origin=record.origin,
            config=record.config.as_dict(),
            speedup=result.speedup,
            latency_us=result.latency_us,
            max_abs_err=result.max_error,
            interpreted=result.interpreted,
        )


class KernelSearchOut(Document):
    """``search_kernels``: the passing kernels that match, ranked ones first, fastest first."""

    items: tuple[KernelSummaryOut, ...] = Field(description="the kernels found, best first")


FileAction = Literal["created", "replaced", "unchanged"]


class AppliedFileOut(Document):
    """One file ``apply_kernel`` wrote, or found already as it would have written it."""

    path: Path = Field(description="the file, absolute")
    action: FileAction = Field(
        description="created (new), replaced (a file Crucible wrote earlier) or unchanged (same bytes)"
    )


class AppliedOut(Document):
    """``apply_kernel``: where the kernel went and exactly what changed on disk."""

    candidate_id: int = Field(description="the kernel written")
    problem: str = Field(description="the problem it solves")
    directory: Path = Field(description="the folder written: crucible_kernels/<problem>/ beside the target")
    module: Path = Field(description="the kernel module: `Kernel` is a drop-in for the reference `Model`")
    test: Path = Field(description="its pytest file, which checks it against the reference copy beside it")
    files: tuple[AppliedFileOut, ...] = Field(description="every file, with what happened to it")
    import_line: str = Field(description="how code beside the target file imports the kernel")
    test_command: str = Field(description="the command that runs the written test")
