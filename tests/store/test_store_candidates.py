"""Candidates: stored once per identity, judged once, and read back exactly as recorded."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate, Language, Origin
from kernels.config import Config
from kernels.problem import Problem
from store import CandidateNotFound, ResultAlreadyRecorded, RunNotFound, Store

CandidateFactory = Callable[..., Candidate]
ResultFactory = Callable[..., EvalResult]


def _scalar(store: Store, sql: str, **params: object) -> object:
    with store.engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def test_add_candidate_stores_a_pending_row(
    store: Store, run_id: int, candidate_factory: CandidateFactory
) -> None:
    candidate = candidate_factory(
        1, triton=True, config={"BLOCK": 128, "fast": True, "ratio": 0.5, "mode": None}
    )
    candidate_id = store.add_candidate(run_id, candidate)
    record = store.get_candidate(candidate_id)
    assert record.id == candidate_id and record.run_id == run_id
    assert record.hash == candidate.hash
    assert record.language is Language.TRITON
    assert record.origin is Origin.OFFLINE
    assert record.family == "scale"
    assert record.config == candidate.config
    assert record.source == candidate.source
    assert record.parent_id is None
    assert record.result is None and record.pending
    assert record.candidate == candidate
    assert record.created_at.tzinfo is not None


def test_add_candidate_dedupes_by_identity(
    store: Store, run_id: int, problem: Problem, candidate_factory: CandidateFactory
) -> None:
    candidate = candidate_factory(1)
    first = store.add_candidate(run_id, candidate)
    assert store.add_candidate(run_id, candidate) == first
    # A comment changes nothing about the identity.
    commented = replace(candidate, source="# tuned by hand\n" + candidate.source)
    assert store.add_candidate(run_id, commented) == first
    assert _scalar(store, "SELECT count(*) FROM candidates") == 1

    other_config = store.add_candidate(run_id, replace(candidate, config=Config.of({"BLOCK": 64})))
    other_run = store.create_run(problem, device="cpu", proposer="offline", budget=1, seed=5, options={})
    same_in_other_run = store.add_candidate(other_run, candidate)
    assert len({first, other_config, same_in_other_run}) == 3


def test_parents_by_id_or_by_hash(store: Store, run_id: int, candidate_factory: CandidateFactory) -> None:
    root = candidate_factory(1)
    root_id = store.add_candidate(run_id, root)
    child_id = store.add_candidate(run_id, candidate_factory(2), parent_id=root_id)
    by_hash_id = store.add_candidate(run_id, candidate_factory(3, parent_hash=root.hash))
    orphan_id = store.add_candidate(run_id, candidate_factory(4, parent_hash="feedfacefeedface"))
    assert store.get_candidate(child_id).parent_id == root_id
    by_hash = store.get_candidate(by_hash_id)
    assert (by_hash.parent_id, by_hash.parent_hash) == (root_id, root.hash)
    orphan = store.get_candidate(orphan_id)
    assert (orphan.parent_id, orphan.parent_hash) == (None, "feedfacefeedface")
    with pytest.raises(CandidateNotFound):
        store.add_candidate(run_id, candidate_factory(5), parent_id=12345)


def test_record_result_writes_verdict_and_one_row_per_shape(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    candidate_id = store.add_candidate(run_id, candidate_factory(1))
    result = result_factory(speedup=4.0, shapes=("small", "medium", "large"), mem=3 * 2**40)
    store.record_result(candidate_id, result)

    with store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT position, shape, peak_mem_bytes FROM evaluations"
                " WHERE candidate_id = :id ORDER BY position"
            ),
            {"id": candidate_id},
        ).all()
        verdict = connection.execute(
            text(
                "SELECT status, stage, speedup, latency_us, peak_mem_bytes, device_key"
                " FROM candidates WHERE id = :id"
            ),
            {"id": candidate_id},
        ).one()
    assert [tuple(row) for row in rows] == [
        (0, "small", 3 * 2**40),
        (1, "medium", 3 * 2**40),
        (2, "large", 3 * 2**40),
    ]
    assert verdict[0:2] == ("ok", "done")
    assert verdict[2] == pytest.approx(4.0)
    assert verdict[3] == pytest.approx(25.0)
    assert verdict[4:] == (3 * 2**40, "cpu")


def test_a_second_verdict_is_refused(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    candidate_id = store.add_candidate(run_id, candidate_factory(1))
    first = result_factory(speedup=2.0)
    store.record_result(candidate_id, first)
    with pytest.raises(ResultAlreadyRecorded, match=f"candidate {candidate_id} already has a verdict"):
        store.record_result(candidate_id, result_factory(Status.CRASHED))
    assert store.get_candidate(candidate_id).result == first
    assert _scalar(store, "SELECT count(*) FROM evaluations") == 2


def test_a_failed_write_leaves_the_candidate_pending(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    """The verdict and its shape rows commit together or not at all."""
    candidate_id = store.add_candidate(run_id, candidate_factory(1))
    good = result_factory()
    # The verdict UPDATE succeeds; the second shape row overflows its column and aborts the write.
    broken = replace(good, shapes=(good.shapes[0], replace(good.shapes[1], samples=2**64)))
    with pytest.raises((StatementError, OverflowError)):
        store.record_result(candidate_id, broken)
    assert store.get_candidate(candidate_id).pending
    assert _scalar(store, "SELECT count(*) FROM evaluations") == 0
    store.record_result(candidate_id, good)
    assert store.get_candidate(candidate_id).result == good


def test_repeated_shape_names_are_refused(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    candidate_id = store.add_candidate(run_id, candidate_factory(1))
    with pytest.raises(ValueError, match="repeats shapes"):
        store.record_result(candidate_id, result_factory(shapes=("small", "small")))
    assert store.get_candidate(candidate_id).pending


def test_result_round_trip_is_exact(store: Store, run_id: int, candidate_factory: CandidateFactory) -> None:
    device = DeviceInfo(
        key="cuda:0",
        kind="cuda",
        name="NVIDIA H100 80GB HBM3",
        driver="550.54.15",
        torch_version="2.4.1+cu124",
        triton_version="3.0.0",
        extra={"sm": 90, "peak_gbps": 3350.0, "features": ["tma", "wgmma"], "mig": None},
    )
    result = EvalResult(
        status=Status.OK,
        stage=Stage.DONE,
        reason="all shapes within tolerance; 1.8x over the reference",
        shapes=(
            ShapeMetrics(
                shape="4096x4096",
                median_us=12.5,
                iqr_us=0.25,
                samples=200,
                max_abs_err=3.0517578125e-05,
                max_rel_err=1e-3,
                peak_mem_bytes=9 * 2**33,
                ref_median_us=22.5,
                ref_iqr_us=0.5,
                speedup=1.8,
                achieved_gbps=2684.35456,
                achieved_tflops=None,
                peak_fraction=0.8013,
                interpreted=False,
                timing_method="cuda_graph_l2_flush",
            ),
            ShapeMetrics(
                shape="small", median_us=1.0 / 3.0, samples=7, speedup=1.1, max_abs_err=0.0, cpu_cores=1.0234
            ),
        ),
        device=device,
        interpreted=False,
        scaled_down=True,
        duration_s=12.345678,
    )
    candidate_id = store.add_candidate(run_id, candidate_factory(1))
    store.record_result(candidate_id, result)
    back = store.get_candidate(candidate_id).result
    assert back == result
    assert back is not None
    assert back.status is Status.OK and back.stage is Stage.DONE
    assert isinstance(back.device, DeviceInfo) and back.device.extra["features"] == ["tma", "wgmma"]
    assert back.speedup == pytest.approx(result.speedup)


def test_failure_verdicts_round_trip(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    no_shapes = EvalResult(status=Status.COMPILE_ERROR, stage=Stage.LOAD, reason="SyntaxError at line 3")
    wrong = result_factory(Status.WRONG_OUTPUT, err=math.inf)
    ids = [store.add_candidate(run_id, candidate_factory(n)) for n in range(2)]
    store.record_result(ids[0], no_shapes)
    store.record_result(ids[1], wrong)
    assert store.get_candidate(ids[0]).result == no_shapes
    back = store.get_candidate(ids[1]).result
    assert back == wrong and back is not None
    assert back.status is Status.WRONG_OUTPUT and back.max_error == math.inf


def test_progress_queries(
    store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    ids = [store.add_candidate(run_id, candidate_factory(n)) for n in range(4)]
    store.record_result(ids[0], result_factory())
    store.record_result(ids[2], result_factory(Status.TIMEOUT))
    hashes = {record.id: record.hash for record in store.candidates(run_id)}
    assert [record.id for record in store.candidates(run_id)] == ids
    assert store.evaluated_hashes(run_id) == {hashes[ids[0]], hashes[ids[2]]}
    assert [record.id for record in store.pending_candidates(run_id)] == [ids[1], ids[3]]
    assert store.count_evaluated(run_id) == 2
    found = store.find_candidate(run_id, hashes[ids[2]])
    assert found is not None and found.id == ids[2]
    assert found.result is not None and found.result.status is Status.TIMEOUT
    assert store.find_candidate(run_id, "0" * 16) is None


def test_unknown_ids_raise(store: Store, run_id: int, candidate_factory: CandidateFactory) -> None:
    with pytest.raises(CandidateNotFound, match="candidate 4242 does not exist"):
        store.get_candidate(4242)
    with pytest.raises(CandidateNotFound):
        store.record_result(4242, EvalResult(status=Status.CRASHED, stage=Stage.LOAD, reason="segfault"))
    for call in (store.candidates, store.pending_candidates, store.evaluated_hashes, store.count_evaluated):
        with pytest.raises(RunNotFound):
            call(run_id + 1)
    with pytest.raises(RunNotFound):
        store.add_candidate(run_id + 1, candidate_factory(1))
    with pytest.raises(RunNotFound):
        store.find_candidate(run_id + 1, "abc")


def test_concurrent_adds_and_verdicts_stay_single(
    db_url: str, store: Store, run_id: int, candidate_factory: CandidateFactory, result_factory: ResultFactory
) -> None:
    """Workers racing on one identity get one row, and only one of them records a verdict."""
    workers = 4
    stores = [Store(db_url) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    ids: list[int] = []
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def work(mine: Store) -> None:
        try:
            barrier.wait()
            candidate_id = mine.add_candidate(run_id, candidate_factory(7))
            ids.append(candidate_id)
            barrier.wait()
            try:
                mine.record_result(candidate_id, result_factory())
                outcomes.append("recorded")
            except ResultAlreadyRecorded:
                outcomes.append("refused")
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for opened in stores:
            opened.close()
    assert errors == []
    assert len(ids) == workers and len(set(ids)) == 1
    assert sorted(outcomes) == ["recorded"] + ["refused"] * (workers - 1)
    assert _scalar(store, "SELECT count(*) FROM candidates") == 1
    assert _scalar(store, "SELECT count(*) FROM evaluations") == 2
