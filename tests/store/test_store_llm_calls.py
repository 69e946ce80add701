"""LLM calls in the store: kept in order, summed for the run's account, found again by prompt."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kernels.candidate import Candidate
from kernels.problem import Problem
from kernels.provenance import CallRecord, IslandMigration
from store.errors import RunNotFound
from store.repository import Store


def call(n: int, outcome: str = "ok", **fields: object) -> CallRecord:
    values: dict[str, object] = {
        "model": "model-a",
        "role": "writer",
        "prompt_hash": f"{n:064x}",
        "prompt": f'[{{"role": "user", "content": "prompt {n}"}}]',
        "outcome": outcome,
        "prompt_tokens": 100 + n,
        "completion_tokens": 10 + n,
        "cost_usd": 0.001 * n,
        "latency_s": 0.5,
        "attempts": 1,
        "response": f"answer {n}" if outcome != "timeout" else "",
        "reason": "" if outcome == "ok" else "it went wrong",
    }
    values.update(fields)
    return CallRecord(**values)  # type: ignore[arg-type]


def test_calls_come_back_in_order_with_every_field(
    store: Store, run_id: int, candidate_factory: Callable[..., Candidate]
) -> None:
    written = candidate_factory(1)
    first = call(
        1,
        candidate_hash=written.hash,
        parent_hash="ab" * 32,
        tokens_estimated=True,
        island=2,
        tips=("a", "b-c"),
    )
    ids = [store.add_llm_call(run_id, c) for c in (first, call(2, "no_code"), call(3, "timeout"))]
    calls = store.llm_calls(run_id)
    assert [c.id for c in calls] == ids == sorted(ids)
    got = calls[0]
    assert got.created_at is not None and got.created_at.tzinfo is not None
    from dataclasses import replace

    assert replace(got, id=None, created_at=None) == first
    assert store.llm_call_counts(run_id) == (3, 2, 306, 36, pytest.approx(0.006))


def test_an_answer_is_found_by_its_prompt_from_any_run(store: Store, run_id: int, problem: Problem) -> None:
    other = store.create_run(problem, device="cpu", proposer="llm", budget=4, seed=9, options={})
    store.add_llm_call(run_id, call(7, "timeout"))
    assert store.answered_llm_call(f"{7:064x}") is None, "a call with no answer is no cache entry"
    store.add_llm_call(other, call(7))
    cached = store.answered_llm_call(f"{7:064x}")
    assert cached is not None and cached.response == "answer 7"
    assert store.llm_calls(run_id)[0].outcome == "timeout" and store.llm_call_counts(other)[0] == 1


def test_a_call_for_a_run_that_does_not_exist_is_refused(store: Store) -> None:
    with pytest.raises(RunNotFound):
        store.add_llm_call(424242, call(1))


def test_island_migrations_come_back_in_order_for_their_run_only(
    store: Store, run_id: int, problem: Problem
) -> None:
    other = store.create_run(problem, device="cpu", proposer="llm", budget=4, seed=9, options={})
    moves = [IslandMigration("a" * 16, 0, 1), IslandMigration("b" * 16, 2, 0)]
    for move in moves:
        store.add_island_migration(run_id, move)
    store.add_island_migration(other, IslandMigration("c" * 16, 1, 2))
    assert store.island_migrations(run_id) == moves
    assert store.island_migrations(other) == [IslandMigration("c" * 16, 1, 2)]
    with pytest.raises(RunNotFound):
        store.add_island_migration(10_000, moves[0])
