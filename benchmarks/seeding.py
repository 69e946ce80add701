"""A large run in a fresh database, fast: candidates, verdicts, per-shape rows and LLM calls
inserted in bulk, then what the store's own writes would keep (the run's counters and its Pareto
front, ``store.fronts``) filled in the same way. Shared by the benchmarks that need 100k
evaluations, which recording one verdict at a time would take most of an hour to make."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update

from evaluator.types import Status
from kernels.pareto import Point, pareto_front
from kernels.problem import load_problem
from store.fronts import objectives, timed
from store.models import CandidateRow, EvaluationRow, LLMCallRow, RunRow
from store.repository import Store

CHUNK = 5_000
FAILURES = (Status.WRONG_OUTPUT, Status.COMPILE_ERROR, Status.RUNTIME_ERROR, Status.TIMEOUT)
SOURCE = '''"""A seeded softmax candidate {n}."""
import torch
import triton
import triton.language as tl

CONFIG_SPACE = {{"BLOCK": [256, 512, 1024, 2048], "num_warps": [2, 4, 8]}}


@triton.jit
def softmax_kernel(x, y, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    vals = tl.load(x + row * n_cols + offs, mask=offs < n_cols, other=-float("inf"))
    vals = tl.exp(vals - tl.max(vals, 0))
    tl.store(y + row * n_cols + offs, vals / tl.sum(vals, 0), mask=offs < n_cols)
'''


def seed_run(store: Store, evaluations: int, rng: random.Random) -> int:
    """A run of ``evaluations`` judged candidates, two shapes each, and one LLM call per 5."""
    run_id = store.create_run(
        load_problem("softmax"),
        device="cuda:0",
        proposer="llm",
        budget=evaluations,
        seed=rng.randrange(2**31),
    )
    ref_us = 42.0
    started = datetime.now(UTC) - timedelta(seconds=2 * evaluations)  # one verdict every 2 s
    with store.engine.begin() as conn:
        for start in range(0, evaluations, CHUNK):
            rows = []
            for n in range(start, min(start + CHUNK, evaluations)):
                ok = rng.random() < 0.85
                latency = ref_us * rng.lognormvariate(0.0, 0.4) if ok else None
                rows.append(
                    {
                        "run_id": run_id,
                        "hash": hashlib.sha256(f"{run_id}:{n}".encode()).hexdigest(),
                        "family": f"family_{n % 8}",
                        "origin": "llm" if n % 5 == 0 else "offline",
                        "language": "triton",
                        "parent_hash": None,
                        "source": SOURCE.format(n=n),
                        "config": {"BLOCK": 256 << (n % 4), "num_warps": 2 << (n % 3)},
                        "status": Status.OK.value if ok else rng.choice(FAILURES).value,
                        "stage": "done" if ok else "correctness",
                        "reason": "" if ok else "max abs error 3.1e-01 over tolerance 1.0e-05",
                        "speedup": ref_us / latency if latency else None,
                        "latency_us": latency,
                        "max_abs_err": rng.uniform(0.0, 4e-6) if ok else None,
                        "peak_mem_bytes": rng.randrange(8, 64) << 20 if ok else None,
                        "interpreted": False,
                        "scaled_down": False,
                        "device_key": "cuda:0",
                        "duration_s": rng.uniform(0.5, 3.0),
                        "suspect": False,
                        "evaluated_at": started + timedelta(seconds=2 * n),
                    }
                )
            conn.execute(insert(CandidateRow), rows)
        ids = conn.scalars(
            select(CandidateRow.id).where(CandidateRow.run_id == run_id).order_by(CandidateRow.id)
        )
        shapes = []
        for cid in ids:
            for position, shape in enumerate(("4096x4096", "16384x1024")):
                shapes.append(
                    {
                        "candidate_id": cid,
                        "position": position,
                        "shape": shape,
                        "median_us": rng.uniform(10, 80),
                        "iqr_us": 0.3,
                        "samples": 100,
                        "max_abs_err": 1e-6,
                        "max_rel_err": 1e-5,
                        "peak_mem_bytes": 64 << 20,
                        "ref_median_us": ref_us,
                        "ref_iqr_us": 0.4,
                        "speedup": rng.uniform(0.5, 2.0),
                        "achieved_gbps": rng.uniform(500, 3000),
                        "interpreted": False,
                        "timing_method": "cuda_graph",
                    }
                )
                if len(shapes) >= CHUNK:
                    conn.execute(insert(EvaluationRow), shapes)
                    shapes = []
        if shapes:
            conn.execute(insert(EvaluationRow), shapes)
        calls = [
            {
                "run_id": run_id,
                "model": "model-a" if n % 2 else "model-b",
                "role": "mutate",
                "prompt_hash": hashlib.sha256(f"p{run_id}:{n}".encode()).hexdigest(),
                "prompt": "Make this softmax faster.",
                "outcome": "ok",
                "prompt_tokens": 1800,
                "completion_tokens": 700,
                "tokens_estimated": False,
                "cost_usd": 0.004,
                "latency_s": 9.0,
                "attempts": 1,
                "cached": False,
                "reason": "",
                "response": "```python\n...\n```",
                "tips": "",
            }
            for n in range(0, evaluations, 5)
        ]
        for start in range(0, len(calls), CHUNK):
            conn.execute(insert(LLMCallRow), calls[start : start + CHUNK])
    return run_id


def finish_seeding(store: Store, run_id: int) -> None:
    """What the store's own writes keep, for rows inserted in bulk: the run's counters and its
    front (``store.fronts``), computed here the same way."""
    with store.engine.begin() as conn:
        rows = conn.execute(
            select(
                CandidateRow.id,
                CandidateRow.latency_us,
                CandidateRow.max_abs_err,
                CandidateRow.peak_mem_bytes,
            )
            .where(CandidateRow.run_id == run_id, timed())
            .order_by(CandidateRow.id)
        ).all()
        front = pareto_front([Point(r.id, objectives(*r[1:])) for r in rows])
        ids = [point.item for point in front]
        conn.execute(update(CandidateRow).where(CandidateRow.id.in_(ids)).values(on_front=True))
        counted = select(func.count()).where(CandidateRow.run_id == run_id)
        conn.execute(
            update(RunRow)
            .where(RunRow.id == run_id)
            .values(
                candidate_count=counted.scalar_subquery(),
                verdict_count=counted.where(CandidateRow.status.is_not(None)).scalar_subquery(),
            )
        )
