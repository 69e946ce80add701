"""``/api/v1/runs``: queue a run, list and page through runs, one run's progress, its candidates,
its Pareto front, and cancelling it.

A new run goes through ``service.runner.create_run``, the same checks as ``crucible optimize``
(budget, proposer, device, the problem's shapes and variant families), and is left ``queued``
for the workers; this server runs nothing itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi import Path as PathParam

from service.api.auth import require_token
from service.api.documents import DocumentResponse
from service.api.errors import ERROR_RESPONSES
from service.api.state import ApiState, api_state
from service.runner import create_run
from service.schemas import (
    CandidateOut,
    CandidatePageOut,
    LLMUsageOut,
    ParetoOut,
    RunCreateIn,
    RunPageOut,
    RunStateOut,
)
from service.schemas.api import MAX_PAGE, DeviceName, ProblemName
from store.repository import Store
from store.runs import RunFilter
from store.status import RunStatus

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; larger ones cannot exist
MAX_OFFSET = 2**31 - 1

router = APIRouter(
    prefix="/api/v1", tags=["runs"], dependencies=[Depends(require_token)], responses=ERROR_RESPONSES
)

RunId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the run's id", examples=[1])]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]


def run_state(store: Store, run_id: int) -> RunStateOut:
    """The run and its progress: verdicts so far, the best candidate, the LLM calls and their cost."""
    progress = store.run_progress(run_id)
    return RunStateOut.from_records(
        progress.run,
        evaluated=progress.evaluated,
        best=progress.best,
        llm=LLMUsageOut.from_counts(progress.llm_calls, progress.llm_ok),
    )


@router.post("/runs", status_code=status.HTTP_201_CREATED, response_model=RunStateOut)
def queue_run(body: RunCreateIn, response: Response, state: ApiState = Depends(api_state)) -> RunStateOut:
    """Queue a run of a built-in or uploaded problem; the workers take it from there."""
    problem = state.catalog.resolve(body.problem, body.overrides)
    run_id = create_run(
        state.store,
        problem,
        device=body.device or state.settings.device,
        budget=body.budget,
        proposer=body.proposer,
        limits=state.settings.eval_limits(),
        slots=body.slots,
        settings=state.settings,
    )
    response.headers["Location"] = f"/api/v1/runs/{run_id}"
    return run_state(state.store, run_id)


@router.get("/runs", response_model=RunPageOut)
def list_runs(
    limit: Limit = 50,
    offset: Offset = 0,
    run_status: Annotated[
        RunStatus | None, Query(alias="status", description="only runs in this status")
    ] = None,
    problem: Annotated[ProblemName | None, Query(description="only runs of this problem")] = None,
    device: Annotated[DeviceName | None, Query(description="only runs on this device")] = None,
    state: ApiState = Depends(api_state),
) -> RunPageOut:
    """The runs that match, newest first, a page at a time, with how many match in all."""
    where = RunFilter(status=run_status, problem=problem, device=device)
    summaries, total = state.store.runs_page(where, limit=limit, offset=offset)
    return RunPageOut.from_records(summaries, total, limit, offset)


@router.get("/runs/{run_id}", response_model=RunStateOut)
def get_run(run_id: RunId, state: ApiState = Depends(api_state)) -> DocumentResponse:
    """One run: its status, verdicts against its budget, the best so far and its LLM cost so far."""
    return DocumentResponse(run_state(state.store, run_id))


@router.get("/runs/{run_id}/candidates", response_model=CandidatePageOut)
def list_candidates(
    run_id: RunId, limit: Limit = 50, offset: Offset = 0, state: ApiState = Depends(api_state)
) -> DocumentResponse:
    """The run's candidates, oldest first, a page at a time: hash, status, origin and metrics."""
    page, total = state.store.candidates_page(run_id, limit, offset)  # 404 for a missing run
    return DocumentResponse(
        CandidatePageOut(
            items=tuple(CandidateOut.from_record(c) for c in page), total=total, limit=limit, offset=offset
        )
    )


@router.get("/runs/{run_id}/pareto", response_model=ParetoOut)
def get_pareto(run_id: RunId, state: ApiState = Depends(api_state)) -> DocumentResponse:
    """The run's Pareto front over latency, error and memory, fastest first."""
    front = state.store.pareto(run_id)  # 404 for a missing run
    return DocumentResponse(ParetoOut(run_id=run_id, front=tuple(CandidateOut.from_record(c) for c in front)))


@router.post("/runs/{run_id}/cancel", response_model=RunStateOut)
def cancel_run(run_id: RunId, state: ApiState = Depends(api_state)) -> RunStateOut:
    """Cancel a queued run now, or ask a running one's worker to stop (it does within a heartbeat).

    A finished run keeps its status; the response is the run as it stands after the request."""
    state.store.request_cancel(run_id)
    return run_state(state.store, run_id)
