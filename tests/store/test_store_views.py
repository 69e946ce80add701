"""What the dashboard draws, aggregated in SQL: chart points (the whole front, a sample of the
rest), status tallies, failures, the best-so-far staircase, the timeline and the runs' tallies."""

from __future__ import annotations

from collections.abc import Callable

from evaluator.types import EvalResult, Status
from kernels.candidate import Candidate
from kernels.provenance import CallRecord
from store import Store
from store import views as _views

ResultFactory = Callable[..., EvalResult]
CandidateFactory = Callable[..., Candidate]


def judge(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> list[int]:
    """Twelve verdicts, speedups 1..12 in a shuffled order, every fourth a wrong output."""
    ids = []
    for n, speed in enumerate([3, 1, 5, 2, 8, 4, 9, 6, 12, 7, 10, 11]):
        cid = store.add_candidate(run_id, candidate_factory(n))
        wrong = n % 4 == 3
        store.record_result(
            cid,
            result_factory(
                Status.WRONG_OUTPUT if wrong else Status.OK, speedup=float(speed), err=1e-6 * (n + 1)
            ),
        )
        ids.append(cid)
    store.add_candidate(run_id, candidate_factory(99))  # pending
    return ids


def test_charts_tally_statuses_failures_and_the_best_so_far(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    judge(store, run_id, candidate_factory, result_factory)
    charts = store.run_charts(run_id)
    assert {c.status: c.count for c in charts.statuses} == {"ok": 9, "wrong_output": 3, "pending": 1}
    assert [(f.status, f.count) for f in charts.failures] == [("wrong_output", 3)]
    steps = [p.best_speedup for p in charts.progress]
    assert steps == sorted(set(steps)) and steps[-1] == 12.0  # a staircase that only goes up
    assert charts.progress[0].evaluated == 1
    assert sum(b.count for b in charts.timeline) == 12
    assert len(charts.points) == 12 and sum(p.on_front for p in charts.points) == len(store.pareto(run_id))


def test_a_sample_of_points_still_holds_the_whole_front(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    judge(store, run_id, candidate_factory, result_factory)
    with store.engine.connect() as conn:
        from sqlalchemy.orm import Session

        sampled = _views.chart_points(Session(bind=conn), run_id, limit=3)
    front = {r.id for r in store.pareto(run_id)}
    assert front <= {p.candidate_id for p in sampled} and len(sampled) < 12


def test_run_tallies_and_devices(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    judge(store, run_id, candidate_factory, result_factory)
    store.add_llm_call(run_id, CallRecord("m", "mutate", "a" * 64, "[]", "ok", cost_usd=0.25))
    store.add_llm_call(run_id, CallRecord("m", "mutate", "b" * 64, "[]", "timeout", cost_usd=0.5))
    tally = store.run_tallies([run_id])[run_id]
    assert {c.status: c.count for c in tally.statuses} == {"ok": 9, "wrong_output": 3}
    assert (tally.llm_calls, tally.llm_cost_usd) == (2, 0.75)
    assert store.run_tallies([]) == {}
    assert store.devices() == [store.get_run(run_id).device]
    (usage,) = store.run_charts(run_id).models
    assert (usage.model, usage.calls, usage.cost_usd) == ("m", 2, 0.75)


def test_the_search_page_grid_islands_lineage_and_model_preferences(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    from kernels.provenance import IslandMigration

    bins = [
        {"memory_level": "registers", "block_class": "small"},
        {"memory_level": "global_only", "block_class": "large"},
    ]
    root = store.add_candidate(run_id, candidate_factory(0), descriptor=bins[0])
    store.record_result(root, result_factory(speedup=1.5))
    parent, ids = root, []
    for n, speed in enumerate([2.0, 1.2, 3.0], start=1):  # a chain: improves, regresses, improves
        made = candidate_factory(n)
        cid = store.add_candidate(run_id, made, parent_id=parent, descriptor=bins[n % 2])
        store.record_result(cid, result_factory(speedup=speed))
        model = "fast" if n != 2 else "slow"
        store.add_llm_call(
            run_id,
            CallRecord(
                model,
                "mutate",
                f"{n:064x}",
                "[]",
                "ok",
                cost_usd=0.01,
                candidate_hash=made.hash,
                island=n % 2,
            ),
        )
        parent = cid
        ids.append(cid)
    store.add_island_migration(
        run_id, IslandMigration(candidate_hash=candidate_factory(3).hash, source=1, target=0)
    )

    search = store.run_search(run_id)
    assert search.descriptors == ("block_class", "memory_level") and (search.x, search.y) == (
        "memory_level",
        "block_class",
    )
    cells = {(c.x, c.y): c for c in search.cells}
    assert cells[("registers", "small")].candidates == 2 and cells[("registers", "small")].best_id == root
    assert (
        abs((cells[("global_only", "large")].best_speedup or 0) - 3.0) < 1e-9
        and cells[("global_only", "large")].best_id == ids[2]
    )
    by_island = {i.island: i for i in search.islands}
    assert (
        by_island[1].candidates == 2
        and abs((by_island[1].best_speedup or 0) - 3.0) < 1e-9
        and by_island[0].migrations_in == 1
    )
    nodes = {n.candidate_id: n for n in search.lineage}
    assert nodes[root].depth == 0 and nodes[ids[2]].depth == 3
    assert [nodes[i].improved for i in ids] == [True, False, True]
    prefs = {p.model: p for p in search.models}
    assert prefs["fast"].calls == 2 and abs(prefs["fast"].improvement_per_call - 1.5) < 1e-9
    assert abs(prefs["slow"].improvement_per_call - 0.2) < 1e-9
    assert abs(sum(p.share for p in search.models) - 1.0) < 1e-9 and prefs["fast"].share > prefs["slow"].share
