"""Stores for the dashboard's tests: an empty one, and one seeded with a run of judged candidates
(fronts, failures, parents, LLM calls) written through the store's own API."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate, Origin
from kernels.config import Config
from kernels.problem import Problem, Shape
from kernels.provenance import CallRecord, IslandMigration
from store.repository import Store
from store.status import RunStatus

GPU = DeviceInfo("cuda:0", "cuda", "NVIDIA H100 80GB HBM3", "570.86", "2.13.0", "3.7.1")
FAILURES = (Status.WRONG_OUTPUT, Status.COMPILE_ERROR, Status.TIMEOUT)


@dataclass(frozen=True)
class Seeded:
    url: str
    run_id: int
    candidate_ids: tuple[int, ...]
    llm_candidate_id: int  # one an LLM call wrote
    child_id: int  # one with a parent


def problem(tmp_path: Path) -> Problem:
    source = (
        "import torch\n\nclass Model(torch.nn.Module):\n"
        "    def forward(self, x):\n        return x.softmax(-1)\n"
    )
    return Problem(
        "softmax", tmp_path / "softmax.py", source, (Shape("4096x4096"), Shape("16384x1024")), {}, {}
    )


def candidate(n: int, origin: Origin = Origin.OFFLINE, family: str = "rowwise") -> Candidate:
    source = (
        "import torch\n\nclass ModelNew(torch.nn.Module):\n"
        f"    def forward(self, x):\n        return x.softmax(-1) * {n}\n"
    )
    return Candidate(source=source, config=Config.of({"BLOCK": 256 << (n % 3)}), family=family, origin=origin)


def result(rng: random.Random, status: Status) -> EvalResult:
    if status is not Status.OK:
        return EvalResult(status, Stage.CORRECTNESS, f"{status.value}: max abs error 3.0e-01 on 4096x4096")
    shapes = tuple(
        ShapeMetrics(
            shape=name,
            median_us=(median := rng.uniform(20, 90)),
            iqr_us=median / 40,
            samples=60,
            max_abs_err=10 ** rng.uniform(-7.5, -5),
            max_rel_err=1e-5,
            peak_mem_bytes=int(rng.uniform(48, 160) * 2**20),
            ref_median_us=60.0,
            ref_iqr_us=1.0,
            speedup=60.0 / median,
            achieved_gbps=rng.uniform(800, 3000),
            peak_fraction=rng.uniform(0.3, 0.9),
            timing_method="cuda_graph",
        )
        for name in ("4096x4096", "16384x1024")
    )
    return EvalResult(status, Stage.DONE, "ok", shapes, device=GPU, duration_s=2.0)


def seed(store: Store, tmp_path: Path, n: int = 30) -> Seeded:
    rng = random.Random(11)
    run_id = store.create_run(
        problem(tmp_path), device="cuda:0", proposer="llm", budget=n + 10, seed=5, options={}
    )
    ids: list[int] = []
    for i in range(n):
        origin = Origin.LLM if i % 3 == 0 else Origin.OFFLINE
        made = candidate(i, origin, family="llm" if origin is Origin.LLM else "rowwise")
        parent = ids[-1] if i % 4 == 1 else None
        bins = {
            "memory_level": ("registers", "global_only")[i % 2],
            "block_class": ("small", "medium", "large")[i % 3],
        }
        cid = store.add_candidate(run_id, made, parent_id=parent, descriptor=bins)
        if origin is Origin.LLM:
            prompt = json.dumps([{"role": "user", "content": f"Make softmax {i} faster."}])
            store.add_llm_call(
                run_id,
                CallRecord(
                    model="model-a" if i % 2 else "model-b",
                    role="mutate",
                    prompt_hash=f"{i:064x}",
                    prompt=prompt,
                    outcome="ok",
                    prompt_tokens=1500,
                    completion_tokens=600,
                    cost_usd=0.003,
                    latency_s=4.0,
                    attempts=1,
                    response=f"```python\n{made.source}```",
                    candidate_hash=made.hash,
                    island=i % 2,
                ),
            )
        status = FAILURES[i % 3] if i % 5 == 4 else Status.OK
        store.record_result(cid, result(rng, status))
        ids.append(cid)
    store.add_island_migration(run_id, IslandMigration(candidate(0).hash, source=0, target=1))
    store.add_candidate(run_id, candidate(999))  # one still pending
    store.set_run_status(run_id, RunStatus.COMPLETED)  # finished: no worker takes it up again
    return Seeded(str(store.url), run_id, tuple(ids), ids[0], ids[1])


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with Store(url):
        pass
    yield url


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    with Store(f"sqlite:///{tmp_path / 'seeded.db'}") as store:
        yield seed(store, tmp_path)
