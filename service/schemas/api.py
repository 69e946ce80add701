"""The HTTP API's own documents: what ``/api/v1`` takes in a request body, and the pages it returns.

Request models are as strict as the documents: frozen, unknown keys refused, every string and
number bounded, so a request either means what its schema says or gets a 422 with the reason.
The rest of a response is made of the shared documents (``RunOut``, ``CandidateOut``...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from service.schemas.base import Document, IsoDatetime
from service.schemas.runs import CandidateOut, LLMUsageOut, RunOut, RunSummaryOut, _run_fields

if TYPE_CHECKING:
    from store.records import CandidateRecord, RunRecord, RunSummary

MAX_BUDGET = 1_000_000
MAX_PAGE = 200  # the largest ``limit`` a listing accepts
MAX_PROBLEM_SOURCE_CHARS = 256 * 1024  # an uploaded problem file, in characters
MAX_OVERRIDES = 16

# A built-in problem's name, or the name an upload was stored under (its file is NAME.py).
ProblemName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
DeviceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9:]{1,32}$")]
SizeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
SizeInt = Annotated[int, Field(ge=1, le=2**40)]


_EXAMPLE_SOURCE = (
    "import torch\n\n\nclass Model(torch.nn.Module):\n"
    "    def forward(self, x):\n        return torch.relu(x)\n"
    "\n\ndef get_inputs():\n    return [torch.randn(16, 256)]\n\n\ndef get_init_inputs():\n    return []\n"
)


class RunCreateIn(Document):
    """``POST /api/v1/runs``: queue a run, as ``crucible optimize --queue`` does."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"problem": "softmax", "budget": 24, "device": "cpu", "proposer": "offline"}]
        }
    )

    problem: ProblemName = Field(description="a built-in problem's name, or an uploaded problem's name")
    budget: int = Field(default=24, ge=1, le=MAX_BUDGET, description="candidates to evaluate in total")
    device: DeviceName | None = Field(
        default=None, description="cpu, cuda, cuda:N or cuda:all; the server's CRUCIBLE_DEVICE when null"
    )
    proposer: Literal["auto", "offline", "llm"] = Field(
        default="auto", description="auto picks llm when an endpoint and models are configured"
    )
    slots: int = Field(default=1, ge=1, le=64, description="evaluations to run at once on the device")
    overrides: dict[SizeName, SizeInt] = Field(
        default_factory=dict,
        max_length=MAX_OVERRIDES,
        description="module-level integer sizes of the problem file to override (to run it scaled down)",
    )


class ProblemUploadIn(Document):
    """``POST /api/v1/problems``: a KernelBench-format problem file to validate and keep."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "relu", "source": _EXAMPLE_SOURCE}]})

    name: ProblemName = Field(
        description="the name to keep it under and to give POST /runs; not a built-in's name"
    )
    source: str = Field(
        min_length=1, max_length=MAX_PROBLEM_SOURCE_CHARS, description="the problem file's Python source"
    )


class RunStateOut(RunOut):
    """A run and how far it got: what ``GET /api/v1/runs/{id}`` and the run-changing calls return."""

    id: int = Field(description="the run's id, as in its URL (``run_id`` too, as the CLI's --json has it)")
    started_at: IsoDatetime | None = Field(description="when a worker first started it")
    evaluated: int = Field(description="how many candidates have a verdict")
    best: CandidateOut | None = Field(description="the best candidate so far, if one passed")
    llm: LLMUsageOut = Field(description="the LLM calls so far and what they cost (zero for offline runs)")
    cancel_requested: bool = Field(description="a cancel was asked for and the worker has yet to stop")
    worker: str | None = Field(description="the worker that holds it, while one does")

    @classmethod
    def from_records(
        cls, run: RunRecord, *, evaluated: int, best: CandidateRecord | None, llm: LLMUsageOut
    ) -> RunStateOut:
        return cls(
            **_run_fields(run),
            id=run.id,
            started_at=run.started_at,
            evaluated=evaluated,
            best=CandidateOut.from_record(best) if best else None,
            llm=llm,
            cancel_requested=run.cancel_requested,
            worker=run.claimed_by,
        )


class RunPageOut(Document):
    """``GET /api/v1/runs``: one page of the runs that match, newest first."""

    items: tuple[RunSummaryOut, ...] = Field(description="the runs on this page")
    total: int = Field(description="how many runs match in all")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="how many matching runs come before this page")

    @classmethod
    def from_records(cls, summaries: Sequence[RunSummary], total: int, limit: int, offset: int) -> RunPageOut:
        return cls(
            items=tuple(RunSummaryOut.from_record(s) for s in summaries),
            total=total,
            limit=limit,
            offset=offset,
        )


class CandidatePageOut(Document):
    """``GET /api/v1/runs/{id}/candidates``: one page of a run's candidates, oldest first."""

    items: tuple[CandidateOut, ...] = Field(description="the candidates on this page")
    total: int = Field(description="how many candidates the run has")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="how many candidates come before this page")


class ParetoOut(Document):
    """``GET /api/v1/runs/{id}/pareto``: the run's Pareto front over latency, error and memory."""

    run_id: int = Field(description="the run")
    front: tuple[CandidateOut, ...] = Field(description="the non-dominated candidates, fastest first")


class HealthOut(Document):
    """``GET /healthz``: the server is up (it checks nothing else, and needs no token)."""

    status: Literal["ok"] = Field(description="always ok when the server answers")
