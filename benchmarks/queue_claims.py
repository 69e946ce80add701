"""How a worker's claim latency grows with the queue: claims from 10k queued runs against 100.

For each backend (PostgreSQL on this machine, and SQLite), a fresh database gets ``--depth``
queued runs (inserted in bulk), then ``--claims`` claims are timed one after another, each a
whole ``Store.claim_run`` transaction as a worker makes it (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite). Then ``--workers`` threads, each with its own engine,
race to drain what is left, for the claim rate under contention. The baseline, in the same run,
is the same on a 100-run queue.

    .venv/bin/python benchmarks/queue_claims.py        # table, and JSON in benchmarks/results/
"""

from __future__ import annotations

import argparse
import platform
import statistics
import threading
import time

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select

from kernels.problem import load_problem
from store.models import RunRow
from store.repository import Store
from store.status import RunStatus

from databases import database
from result_files import append_run, commit, result_path


def fill(store: Store, depth: int) -> None:
    """``depth`` queued runs of one problem, in bulk (one ``create_run`` makes the problem row)."""
    first = store.create_run(load_problem("softmax"), device="cpu", proposer="offline", budget=8, seed=1)
    with store.engine.connect() as conn:
        problem_id = conn.scalar(select(RunRow.problem_id).where(RunRow.id == first))
    rows = [
        {
            "problem_id": problem_id,
            "status": RunStatus.QUEUED.value,
            "device": "cpu",
            "proposer": "offline",
            "budget": 8,
            "seed": n,
            "options": {},
            "claims": 0,
            "failure_streak": 0,
            "cancel_requested": False,
        }
        for n in range(depth - 1)
    ]
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(RunRow), rows[start : start + 5000])


def measure(backend: str, depth: int, claims: int, workers: int) -> dict[str, float | int | str]:
    with database(backend) as url, Store(url) as store:
        fill(store, depth)
        times_ms = []
        for _ in range(claims):
            started = time.perf_counter()
            lease = store.claim_run("bench", 60)
            times_ms.append((time.perf_counter() - started) * 1e3)
            assert lease is not None
        left = store.queue_depth()
        taken: list[int] = []
        lock = threading.Lock()

        def drain(name: str) -> None:
            with Store(url, migrate=False) as own:
                while (lease := own.claim_run(name, 60)) is not None:
                    with lock:
                        taken.append(lease.run_id)

        started = time.perf_counter()
        threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        assert len(taken) == len(set(taken)) == left, "a run claimed twice, or one left behind"
    ordered = sorted(times_ms)
    return {
        "backend": backend,
        "depth": depth,
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "raced_claims": left,
        "raced_per_s": round(left / wall, 1) if wall else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    args = parser.parse_args()
    rows = []
    for backend in args.backends:
        at_depth = measure(backend, args.depth, args.claims, args.workers)
        baseline = measure(backend, 100 + args.claims, args.claims, args.workers)
        rows.append(
            {
                "at_depth": at_depth,
                "baseline": baseline,
                "p99_ratio": round(float(at_depth["p99_ms"]) / max(float(baseline["p99_ms"]), 1e-9), 2),
            }
        )
    table = Table(title="Claim latency against queue depth (one claim transaction each)")
    for column in ("backend", "queued", "p50", "p99", f"{args.workers} racing workers", "p99 vs baseline"):
        table.add_column(column, justify="right")
    for row in rows:
        for key in ("at_depth", "baseline"):
            figures = row[key]
            table.add_row(
                str(figures["backend"]),
                f"{figures['depth']:,}",
                f"{figures['p50_ms']:.2f} ms",
                f"{figures['p99_ms']:.2f} ms",
                f"{figures['raced_per_s']:.0f} claims/s over {figures['raced_claims']:,}",
                f"{row['p99_ratio']:.2f}x" if key == "at_depth" else "baseline",
            )
    Console().print(table)
    append_run(
        result_path("queue_claims", "cpu"),
        {"benchmark": "queue_claims", "command": "python benchmarks/queue_claims.py"},
        {"commit": commit(), "machine": platform.processor() or platform.machine(), "results": rows},
    )


if __name__ == "__main__":
    main()
