"""The islands: MAP-Elites grids that keep one elite per descriptor cell, trade elites on a ring,
and give the LLM writer parents and inspirations by an exploitation/exploration mix."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from agent.archive import Archive, ArchiveEntry
from agent.islands import IslandModel, IslandSettings, cell_of
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Origin, make_candidate
from kernels.problem import BUILTIN_DIR
from kernels.provenance import IslandMigration


def ok(latency_us: float) -> EvalResult:
    shape = ShapeMetrics("small", median_us=latency_us, samples=10, max_abs_err=1e-6, peak_mem_bytes=1024)
    return EvalResult(Status.OK, Stage.DONE, "ok", shapes=(shape,))


def source(name: str) -> str:
    return (BUILTIN_DIR / f"{name}.py").read_text(encoding="utf-8")


ROWWISE = source("softmax/triton_rowwise")  # registers
ONLINE = source("softmax/triton_online")  # global_only
MATMUL = source("matmul/triton_tiled")  # shared memory, tensor-core dots


def tagged(text: str, n: int) -> str:
    """A distinct candidate (its hash ignores comments) in the same descriptor cell."""
    return f"{text}\n_TAG = {n}\n"


class Run:
    """An archive and an island model fed the way the LLM proposer feeds them."""

    def __init__(self, islands: int = 3, **settings: float) -> None:
        self.archive = Archive()
        self.model = IslandModel(IslandSettings(islands=islands, **settings))  # type: ignore[arg-type]
        self.next_id = 1

    def add(
        self, text: str, latency: float, *, family: str, island: int | None = None, parent: str | None = None
    ) -> ArchiveEntry:
        candidate = make_candidate(
            tagged(text, self.next_id), family=family, origin=Origin.LLM, parent_hash=parent
        )
        if island is not None:
            self.model.assign(family, island)
        entry = self.archive.update(self.next_id, candidate, ok(latency))
        self.next_id += 1
        self.model.place(entry)
        return entry


def test_the_common_start_is_on_every_island_and_a_written_family_only_on_its_own() -> None:
    run = Run()
    start = run.add(ROWWISE, 10.0, family="triton_rowwise")
    written = run.add(MATMUL, 5.0, family="llm-aaa", island=1, parent=start.candidate.hash)
    for island, grid in enumerate(run.model.grids):
        assert start.candidate.hash in grid
        assert (written.candidate.hash in grid) is (island == 1)
    assert run.model.island_of("llm-aaa") == 1 and run.model.island_of("triton_rowwise") is None


def test_a_cell_keeps_its_best_and_other_cells_live_beside_it() -> None:
    run = Run(islands=1)
    slow = run.add(ROWWISE, 10.0, family="a")
    fast = run.add(ROWWISE, 4.0, family="b")
    slower = run.add(ROWWISE, 12.0, family="c")
    other = run.add(ONLINE, 50.0, family="d")
    assert cell_of(slow) == cell_of(fast) == cell_of(slower) != cell_of(other)
    elites = run.model.grids[0].elites()
    assert [e.candidate.hash for e in elites] == [fast.candidate.hash, other.candidate.hash]


def test_a_failed_result_is_never_an_elite() -> None:
    run = Run(islands=1)
    bad = make_candidate(MATMUL, family="x")
    entry = run.archive.update(1, bad, EvalResult(Status.WRONG_OUTPUT, Stage.CORRECTNESS, "max abs error 3"))
    run.model.place(entry)
    assert len(run.model.grids[0]) == 0


def test_the_grids_do_not_depend_on_the_order_results_arrive_in() -> None:
    specs = [(ROWWISE, 9.0, "a", None), (ROWWISE, 3.0, "llm-1", 0), (ONLINE, 7.0, "llm-2", 2),
             (MATMUL, 2.0, "llm-3", 1), (ONLINE, 5.0, "b", None), (ROWWISE, 2.5, "llm-4", 2)]  # fmt: skip
    snapshots = []
    for order in (range(len(specs)), reversed(range(len(specs)))):
        archive, model = Archive(), IslandModel(IslandSettings(islands=3))
        for i in order:
            text, latency, family, island = specs[i]
            if island is not None:
                model.assign(family, island)
            candidate = make_candidate(tagged(text, i), family=family)
            model.place(archive.update(i + 1, candidate, ok(latency)))
        snapshots.append(model.snapshot())
    assert snapshots[0] == snapshots[1]


def test_each_island_sends_its_best_to_the_next_on_the_ring() -> None:
    run = Run(islands=3, migration_interval=4)
    best = {
        island: run.add(MATMUL, 1.0 + island, family=f"llm-{island}", island=island) for island in range(3)
    }
    assert run.model.due_migrations(3) == [] and run.model.due_migrations(0) == []
    moves = run.model.due_migrations(4)
    assert moves == [IslandMigration(best[i].candidate.hash, i, (i + 1) % 3) for i in range(3)]
    for move in moves:
        run.model.record_migration(move, run.archive)
    for move in moves:
        assert move.candidate_hash in run.model.grids[move.target]
    # Island 0's best is now island 1's best too, and island 2 does not hold it: it travels on.
    again = run.model.due_migrations(8)
    assert IslandMigration(best[0].candidate.hash, 1, 2) in again


def test_a_migration_read_back_before_its_result_places_the_migrant_when_it_arrives() -> None:
    run = Run(islands=2)
    migrant = make_candidate(tagged(MATMUL, 1), family="llm-x", origin=Origin.LLM)
    run.model.assign("llm-x", 0)
    run.model.record_migration(IslandMigration(migrant.hash, 0, 1))  # resumed: calls first, results after
    run.model.place(run.archive.update(1, migrant, ok(3.0)))
    assert all(migrant.hash in grid for grid in run.model.grids)


def test_exploitation_draws_the_best_and_exploration_favours_cells_built_on_least() -> None:
    run = Run(islands=1, exploit_share=1.0, pareto_share=0.0, exploit_top=1)
    best = run.add(MATMUL, 1.0, family="a")
    worn = run.add(ROWWISE, 5.0, family="b")
    fresh = run.add(ONLINE, 6.0, family="c")
    rng = random.Random(0)
    assert {run.model.select(0, run.archive, rng).candidate.hash for _ in range(20)} == {best.candidate.hash}  # type: ignore[union-attr]
    for i in range(9):  # nine children written from `worn`
        run.add(ROWWISE, 50.0 + i, family=f"llm-child{i}", island=0, parent=worn.candidate.hash)
    explore = IslandModel(IslandSettings(islands=1, exploit_share=0.0, pareto_share=0.0))
    for entry in run.archive.entries:
        explore.place(entry)
    picks = Counter(explore.select(0, run.archive, rng).candidate.hash for _ in range(3000))  # type: ignore[union-attr]
    assert picks[fresh.candidate.hash] > 5 * picks[worn.candidate.hash]


def test_an_empty_island_falls_back_to_the_whole_archive() -> None:
    run = Run(islands=2)
    entry = run.add(MATMUL, 1.0, family="llm-only", island=0)
    assert run.model.select(1, run.archive, random.Random(1)) == entry
    assert IslandModel().select(0, Archive(), random.Random(1)) is None


def test_inspirations_come_from_other_cells_own_island_first() -> None:
    run = Run(islands=2)
    parent = run.add(ROWWISE, 3.0, family="llm-p", island=0)
    same_cell = run.add(ROWWISE, 4.0, family="llm-q", island=1)
    own = run.add(ONLINE, 5.0, family="llm-r", island=0)
    far = run.add(MATMUL, 6.0, family="llm-s", island=1)
    picked = run.model.inspirations(0, parent, 1, random.Random(0))
    assert [e.candidate.hash for e in picked] == [own.candidate.hash]
    more = {e.candidate.hash for e in run.model.inspirations(0, parent, 3, random.Random(0))}
    assert more == {own.candidate.hash, far.candidate.hash}
    assert same_cell.candidate.hash not in more


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one island"):
        IslandSettings(islands=0)
    with pytest.raises(ValueError, match="add up to at most 1"):
        IslandSettings(exploit_share=0.8, pareto_share=0.3)
