"""API latency at scale: run detail, candidates and Pareto front over a run of 100k evaluations.

A fresh PostgreSQL database gets one run with ``--evaluations`` judged candidates (inserted in
bulk: a mix of verdicts, two shapes each, LLM calls beside them) and a baseline run of
``--baseline`` candidates made the same way. ``uvicorn`` serves the API from a subprocess on
loopback; ``--clients`` threads, each with its own keep-alive connection, then send
``--requests`` requests apiece, round-robin over the three routes, to each run in turn. The
table gives p50 and p99 per route and run, and the ratio of the big run's p99 to the baseline's.

The store keeps each run's front as verdicts land and counts its verdicts on the run's row; the
server keeps the front's records until the count moves. The "cold" line is a Pareto request
right after a new verdict was recorded through the store, so the server reads the front again.

    .venv/bin/python benchmarks/api_latency.py       # table, and JSON in benchmarks/results/
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text

from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import make_candidate
from store.repository import Store

from databases import database
from result_files import append_run, commit, result_path
from seeding import SOURCE, finish_seeding, seed_run

TOKEN = "bench-token"
ROUTES = ("run detail", "candidates", "pareto")


def add_verdict(store: Store, run_id: int, n: int) -> None:
    """One more judged candidate, through the store as a worker records it: the front moves."""
    candidate = make_candidate(SOURCE.format(n=-1) + f"\nLATE_VARIANT = {n}\n", {"BLOCK": 256})
    candidate_id = store.add_candidate(run_id, candidate)
    shape = ShapeMetrics("4096x4096", median_us=40.0 + n, samples=100, max_abs_err=1e-6, speedup=1.05)
    store.record_result(candidate_id, EvalResult(Status.OK, Stage.DONE, "ok", (shape,)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(url: str) -> Iterator[str]:
    """The API over ``url`` in a uvicorn subprocess on loopback; yields its base URL."""
    port = free_port()
    env = os.environ | {"CRUCIBLE_DATABASE_URL": url, "CRUCIBLE_API_TOKEN": TOKEN}
    command = [sys.executable, "-m", "uvicorn", "service.api.app:factory", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parents[1])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise SystemExit("the API server did not come up within 60 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def paths(run_id: int, total: int, rng: random.Random) -> dict[str, str]:
    offset = rng.randrange(max(total - 50, 1))
    return {
        "run detail": f"/api/v1/runs/{run_id}",
        "candidates": f"/api/v1/runs/{run_id}/candidates?limit=50&offset={offset}",
        "pareto": f"/api/v1/runs/{run_id}/pareto",
    }


def load(
    base: str, run_id: int, total: int, clients: int, requests: int, progress: Progress
) -> dict[str, Any]:
    """``clients`` threads sending ``requests`` each, round-robin over the routes."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    task = progress.add_task(f"run of {total:,}", total=clients * requests)

    def client(number: int) -> None:
        rng = random.Random(number)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            for i in range(requests):
                route = ROUTES[(i + number) % len(ROUTES)]
                started = time.perf_counter()
                reply = http.get(paths(run_id, total, rng)[route])
                elapsed = (time.perf_counter() - started) * 1e3
                with lock:
                    latencies[route].append(elapsed)
                    if reply.status_code != 200:
                        errors.append(f"{route}: {reply.status_code}")
                progress.advance(task)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return {
        "evaluations": total,
        "requests_per_s": round(sum(len(v) for v in latencies.values()) / wall, 1),
        "routes": {route: percentiles(latencies[route]) for route in ROUTES},
    }


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "n": len(ordered),
    }


def cold_pareto(base: str, store: Store, run_id: int, times: int) -> dict[str, float]:
    """A Pareto request right after each of ``times`` new verdicts: the front is recomputed."""
    taken = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for n in range(times):
            add_verdict(store, run_id, n)
            started = time.perf_counter()
            http.get(f"/api/v1/runs/{run_id}/pareto").raise_for_status()
            taken.append((time.perf_counter() - started) * 1e3)
    return percentiles(taken)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=150, help="requests per client per run")
    parser.add_argument("--cold", type=int, default=5, help="Pareto requests after a new verdict")
    parser.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    args = parser.parse_args()
    rng = random.Random(7)
    console = Console()
    with database(args.backend) as url, Store(url) as store:
        with console.status(f"seeding {args.evaluations:,} + {args.baseline:,} evaluations"):
            started = time.perf_counter()
            big = seed_run(store, args.evaluations, rng)
            small = seed_run(store, args.baseline, rng)
            for run_id in (big, small):
                finish_seeding(store, run_id)
            if args.backend == "postgresql":
                with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
            seeded_s = time.perf_counter() - started
        console.print(f"seeded in {seeded_s:.0f} s")
        with served(url) as base, Progress(console=console, transient=True) as progress:
            for run_id, total in ((big, args.evaluations), (small, args.baseline)):
                load(base, run_id, total, args.clients, 20, progress)  # warm-up: connections, caches, plans
            at_scale = load(base, big, args.evaluations, args.clients, args.requests, progress)
            baseline = load(base, small, args.baseline, args.clients, args.requests, progress)
            cold = cold_pareto(base, store, big, args.cold)
    ratios = {
        route: round(at_scale["routes"][route]["p99_ms"] / max(baseline["routes"][route]["p99_ms"], 1e-9), 2)
        for route in ROUTES
    }
    table = Table(title=f"API latency on {args.backend}, {args.clients} concurrent clients on loopback")
    for column in ("route", "evaluations", "p50", "p99", "p99 vs baseline"):
        table.add_column(column, justify="right")
    for route in ROUTES:
        for figures, label in ((at_scale, f"{ratios[route]:.2f}x"), (baseline, "baseline")):
            row = figures["routes"][route]
            table.add_row(
                route,
                f"{figures['evaluations']:,}",
                f"{row['p50_ms']:.1f} ms",
                f"{row['p99_ms']:.1f} ms",
                label,
            )
    table.add_row(
        "pareto, cold", f"{args.evaluations:,}", f"{cold['p50_ms']:.1f} ms", f"{cold['p99_ms']:.1f} ms", ""
    )
    console.print(table)
    met = at_scale["routes"]["pareto"]["p99_ms"] < 100
    console.print(
        f"throughput {at_scale['requests_per_s']:.0f} req/s at scale, "
        f"{baseline['requests_per_s']:.0f} at baseline; "
        f"Pareto p99 target (< 100 ms): {'met' if met else 'MISSED'}"
    )
    append_run(
        result_path("api_latency", "cpu"),
        {"benchmark": "api_latency", "command": "python benchmarks/api_latency.py"},
        {
            "commit": commit(),
            "machine": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "backend": args.backend,
            "clients": args.clients,
            "seeded_s": round(seeded_s, 1),
            "at_scale": at_scale,
            "baseline": baseline,
            "p99_ratio": ratios,
            "pareto_cold": cold,
            "pareto_p99_target_met": met,
        },
    )


if __name__ == "__main__":
    main()
