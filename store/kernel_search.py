"""Passing kernels across every run: by problem, by the device they were measured on, by speedup.

The per-run queries (``store.queries``) answer "what did this run find"; this one answers "what
does the store already know for this problem on this device", for a coding agent looking for a
kernel before it starts a search of its own. Ranked candidates (ok, really timed, not suspect)
come first, fastest first; ok candidates without a ranked speedup (Triton under the CPU
interpreter) follow, oldest first, unless a minimum speedup is asked for, which only ranked ones
can meet. One page of ids is chosen in SQL, so the cost does not grow with the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from evaluator.types import Status
from store.candidates import select_candidates
from store.engine import session_factory
from store.fronts import timed
from store.models import CandidateRow, ProblemRow, RunRow
from store.records import CandidateRecord
from store.repository import Store

MAX_LIMIT = 200
ANY_CUDA = "cuda:all"  # as a device filter: every CUDA device


@dataclass(frozen=True)
class KernelQuery:
    """Which passing candidates to list; None matches any."""

    problem: str | None = None  # the problem's name, as runs store it
    device: str | None = None  # a device key (cpu, cuda:N), or cuda:all for any CUDA device
    min_speedup: float | None = None  # ranked speedup over the reference, at least this
    limit: int = 20

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be within 1..{MAX_LIMIT}, got {self.limit}")

    def criteria(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [CandidateRow.status == Status.OK.value]
        if self.problem is not None:
            found.append(ProblemRow.name == self.problem)
        if self.device == ANY_CUDA:
            found.append(CandidateRow.device_key.startswith("cuda:"))
        elif self.device is not None:
            found.append(CandidateRow.device_key == self.device)
        if self.min_speedup is not None:
            found.extend([timed(), CandidateRow.speedup >= self.min_speedup])
        return found


@dataclass(frozen=True)
class KernelHit:
    """A passing candidate with the problem it solves and the device it was measured on."""

    record: CandidateRecord
    problem: str
    device: str


def search_kernels(session: Session, query: KernelQuery) -> list[KernelHit]:
    """The page of passing candidates that match, ranked ones first by speedup."""
    ranked = case((timed(), CandidateRow.speedup))
    page = session.execute(
        select(CandidateRow.id, ProblemRow.name, CandidateRow.device_key)
        .join(RunRow, CandidateRow.run_id == RunRow.id)
        .join(ProblemRow, RunRow.problem_id == ProblemRow.id)
        .where(*query.criteria())
        # NULLs sort first under DESC on PostgreSQL and last on SQLite: order on them explicitly.
        .order_by(ranked.is_(None), ranked.desc(), CandidateRow.id)
        .limit(query.limit)
    ).all()
    if not page:
        return []
    records = {r.id: r for r in select_candidates(session, CandidateRow.id.in_([row[0] for row in page]))}
    return [KernelHit(records[cid], name, device or "") for cid, name, device in page]


def find_kernels(store: Store, query: KernelQuery) -> list[KernelHit]:
    """``search_kernels`` in one read-only snapshot of ``store``."""
    with session_factory(store.engine)() as session, session.begin():
        return search_kernels(session, query)
