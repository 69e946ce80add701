"""The search behind a run, for the dashboard: the MAP-Elites grid over two descriptors, the
islands, the lineage of the best candidates, and what the model bandit weighs.

Each reads bounded rows: the grid and the model table aggregate in Python over a few columns per
candidate or call (cached per verdict count by the store), the lineage walks only the ancestry of
the leaderboard's top, by a recursive query capped in depth.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Integer, and_, case, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from store.fronts import timed
from store.models import CandidateRow, IslandMigrationRow, LLMCallRow

LINEAGE_TOP = 8  # the leaderboard's best whose ancestry is drawn
LINEAGE_DEPTH = 60  # generations back from each of them


@dataclass(frozen=True)
class ArchiveCell:
    """One cell of the MAP-Elites grid over two descriptors: how many candidates, and the best."""

    x: str  # the first descriptor's value
    y: str  # the second's
    candidates: int
    best_speedup: float | None  # of its timed candidates
    best_id: int | None


@dataclass(frozen=True)
class IslandSummary:
    """One island of the LLM search: the candidates its writers produced, and elites it received."""

    island: int
    candidates: int
    ok: int
    best_speedup: float | None
    migrations_in: int


@dataclass(frozen=True)
class LineageNode:
    """A candidate in the ancestry of the run's best ones; ``improved`` when it beat its parent."""

    candidate_id: int
    parent_id: int | None
    family: str
    status: str | None
    speedup: float | None
    depth: int  # generations from its root
    improved: bool


@dataclass(frozen=True)
class ModelPreference:
    """What the model bandit weighs (``agent.llm.bandit``): each model's improvement per dollar,
    here as point estimates from the stored calls (the bandit samples around them and explores)."""

    model: str
    calls: int
    cost_usd: float
    improvement_per_call: float  # its candidates' speedup beyond 1x, unranked ones as 0
    improvement_per_usd: float
    share: float  # of the models' summed improvement per dollar: who the bandit leans to


def descriptor_names(session: Session, run_id: int) -> list[str]:
    """The descriptor bins the run's candidates were stored with (none for older runs)."""
    found = session.scalar(
        select(CandidateRow.descriptor)
        .where(CandidateRow.run_id == run_id, CandidateRow.descriptor.is_not(None))
        .limit(1)
    )
    return sorted(found) if found else []  # JSONB keeps no key order


def archive_cells(session: Session, run_id: int, x: str, y: str) -> list[ArchiveCell]:
    """The grid over descriptors ``x`` and ``y``: per cell, its candidates and its fastest."""
    speed = case((timed(), CandidateRow.speedup))
    rows = session.execute(
        select(CandidateRow.id, CandidateRow.descriptor, speed).where(
            CandidateRow.run_id == run_id,
            CandidateRow.descriptor.is_not(None),
            CandidateRow.status.is_not(None),
        )
    )
    counts: dict[tuple[str, str], int] = defaultdict(int)
    best: dict[tuple[str, str], tuple[float, int]] = {}
    for cid, descriptor, speedup in rows:
        key = (str(descriptor.get(x, "?")), str(descriptor.get(y, "?")))
        counts[key] += 1
        if speedup is not None and (key not in best or speedup > best[key][0]):
            best[key] = (float(speedup), int(cid))
    return [
        ArchiveCell(kx, ky, n, *best.get((kx, ky), (None, None))) for (kx, ky), n in sorted(counts.items())
    ]


def islands(session: Session, run_id: int) -> list[IslandSummary]:
    """Per island: the candidates its writer calls produced, how many passed, the fastest, and
    the elites other islands sent it."""
    written = and_(CandidateRow.run_id == LLMCallRow.run_id, CandidateRow.hash == LLMCallRow.candidate_hash)
    rows = session.execute(
        select(
            LLMCallRow.island,
            func.count(CandidateRow.id.distinct()),
            func.count(CandidateRow.id.distinct()).filter(CandidateRow.status == "ok"),
            func.max(case((timed(), CandidateRow.speedup))),
        )
        .join(CandidateRow, written)
        .where(LLMCallRow.run_id == run_id, LLMCallRow.island.is_not(None))
        .group_by(LLMCallRow.island)
    ).all()
    received = dict(
        session.execute(
            select(IslandMigrationRow.target_island, func.count())
            .where(IslandMigrationRow.run_id == run_id)
            .group_by(IslandMigrationRow.target_island)
        ).all()
    )
    found = {int(i): (int(n), int(ok), best) for i, n, ok, best in rows}
    return [
        IslandSummary(i, *found.get(i, (0, 0, None)), int(received.get(i, 0)))
        for i in sorted(set(found) | {int(k) for k in received})
    ]


def lineage_nodes(session: Session, run_id: int, top: int = LINEAGE_TOP) -> list[LineageNode]:
    """The ancestry of the run's ``top`` fastest candidates, with the edges that improved."""
    speed = case((timed(), CandidateRow.speedup))
    leaders = (
        select(CandidateRow.id)
        .where(CandidateRow.run_id == run_id, timed(), CandidateRow.speedup.is_not(None))
        .order_by(CandidateRow.speedup.desc(), CandidateRow.id)
        .limit(top)
    )
    chain = (
        select(CandidateRow.id, CandidateRow.parent_id, literal_column("0", Integer).label("back"))
        .where(CandidateRow.id.in_(leaders.scalar_subquery()))
        .cte("chain", recursive=True)
    )
    step = aliased(CandidateRow)
    chain = chain.union_all(
        select(step.id, step.parent_id, chain.c.back + 1)
        .join(chain, step.id == chain.c.parent_id)
        .where(chain.c.back < LINEAGE_DEPTH)
    )
    ids = set(session.scalars(select(chain.c.id)))
    if not ids:
        return []
    rows = session.execute(
        select(
            CandidateRow.id, CandidateRow.parent_id, CandidateRow.family, CandidateRow.status, speed
        ).where(CandidateRow.id.in_(ids))
    ).all()
    info = {r[0]: r for r in rows}
    children: dict[int | None, list[int]] = defaultdict(list)
    for cid, parent, *_ in rows:
        children[parent if parent in info else None].append(cid)
    depth: dict[int, int] = {}
    frontier = sorted(children[None])
    level = 0
    while frontier:  # breadth first, no recursion: chains can be long
        for cid in frontier:
            depth[cid] = level
        frontier = sorted(c for cid in frontier for c in children.get(cid, []))
        level += 1
    nodes = []
    for cid in sorted(depth):
        _, parent, family, status, speedup = info[cid]
        above = info[parent][4] if parent in info else None
        improved = parent in info and speedup is not None and (above is None or speedup > above)
        nodes.append(
            LineageNode(
                cid, parent if parent in info else None, family, status, speedup, depth[cid], improved
            )
        )
    return nodes


def model_preferences(session: Session, run_id: int) -> list[ModelPreference]:
    """Per model, its calls' cost and what their candidates earned (speedup beyond 1x, as the
    bandit counts it), and its share of the models' improvement per dollar."""
    written = and_(CandidateRow.run_id == LLMCallRow.run_id, CandidateRow.hash == LLMCallRow.candidate_hash)
    rows = session.execute(
        select(LLMCallRow.model, LLMCallRow.cost_usd, case((timed(), CandidateRow.speedup)))
        .outerjoin(CandidateRow, written)
        .where(LLMCallRow.run_id == run_id)
    )
    calls: dict[str, int] = defaultdict(int)
    cost: dict[str, float] = defaultdict(float)
    gained: dict[str, float] = defaultdict(float)
    for model, usd, speedup in rows:
        calls[model] += 1
        cost[model] += float(usd)
        gained[model] += max(0.0, float(speedup) - 1.0) if speedup is not None else 0.0
    per_usd = {m: (gained[m] / calls[m]) / max(cost[m] / calls[m], 1e-4) for m in calls}
    total = sum(per_usd.values())
    return [
        ModelPreference(
            m, calls[m], cost[m], gained[m] / calls[m], per_usd[m], per_usd[m] / total if total else 0.0
        )
        for m in sorted(calls)
    ]


@dataclass(frozen=True)
class RunSearch:
    """What a run's search page draws, read in one snapshot."""

    descriptors: tuple[str, ...]  # the bins its candidates carry, to pick the grid's axes from
    x: str | None
    y: str | None
    cells: tuple[ArchiveCell, ...]
    islands: tuple[IslandSummary, ...]
    lineage: tuple[LineageNode, ...]
    models: tuple[ModelPreference, ...]


DEFAULT_AXES = ("memory_level", "block_class")


def run_search(session: Session, run_id: int, x: str | None, y: str | None) -> RunSearch:
    names = tuple(descriptor_names(session, run_id))
    x = x if x in names else next((n for n in DEFAULT_AXES if n in names), names[0] if names else None)
    y = (
        y
        if y in names and y != x
        else next((n for n in (*DEFAULT_AXES, *names) if n in names and n != x), None)
    )
    return RunSearch(
        descriptors=names,
        x=x,
        y=y,
        cells=tuple(archive_cells(session, run_id, x, y)) if x and y else (),
        islands=tuple(islands(session, run_id)),
        lineage=tuple(lineage_nodes(session, run_id)),
        models=tuple(model_preferences(session, run_id)),
    )
