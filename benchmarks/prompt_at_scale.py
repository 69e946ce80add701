"""What one LLM iteration costs the agent at 10k candidates: archive and islands, parent, prompt.

An archive of ``--candidates`` evaluated candidates (real kernel sources, latencies, errors and
memory spread so the Pareto front is a few dozen wide), spread over three islands of MAP-Elites
grids, takes one more result (its descriptor read from its source, its island's grid updated),
then a parent, inspirations, tips and the writer's prompt are chosen and built, as the LLM
proposer does for each call. The
baseline, in the same run, is the same iteration on a 100-candidate archive. Target: under 50 ms
per iteration at 10k.

    .venv/bin/python benchmarks/prompt_at_scale.py      # table, and JSON in benchmarks/results/
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
import tracemalloc
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agent.archive import Archive
from agent.islands import IslandModel
from agent.prompt_context import PromptContext
from agent.prompt_types import DeviceFacts, ProblemBrief
from agent.prompting import build_writer_prompt
from agent.prompts import Snippet
from agent.tips import TipPool
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import make_candidate

from result_files import append_run, commit, result_path

PROBLEMS = Path(__file__).resolve().parents[1] / "kernels" / "problems"


def sources() -> list[str]:
    return [p.read_text() for p in sorted(PROBLEMS.glob("*/*.py")) if "ModelNew" in p.read_text()]


def result(rng: random.Random) -> EvalResult:
    latency = rng.lognormvariate(3, 0.5)
    shape = ShapeMetrics(
        "wide",
        median_us=latency,
        samples=50,
        max_abs_err=rng.lognormvariate(-12, 1),
        peak_mem_bytes=int(rng.uniform(1e6, 1e8)),
        ref_median_us=40.0,
        speedup=40.0 / latency,
    )
    return EvalResult(Status.OK, Stage.DONE, "ok", shapes=(shape,))


def variant(text: str, number: int) -> str:
    """A distinct candidate (a hash ignores comments) with the descriptor of ``text``."""
    return f"{text}\n_VARIANT = {number}\n"


def fill(size: int, rng: random.Random, texts: list[str]) -> tuple[Archive, IslandModel]:
    archive, islands = Archive(), IslandModel()
    for number in range(size):
        family = f"llm-{number % 400:04d}"
        islands.assign(family, number % 3)
        candidate = make_candidate(variant(rng.choice(texts), number), family=family)
        islands.place(archive.update(number, candidate, result(rng)))
    return archive, islands


def measure(size: int, iterations: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    texts = sources()
    reference = (PROBLEMS / "softmax" / "reference.py").read_text()
    archive, islands = fill(size, rng, texts)
    context = PromptContext(ProblemBrief("softmax", reference, "wide (4096x4096)"), DeviceFacts("H100"), rng)
    tips = TipPool(rng=random.Random(seed))
    times_ms = []
    tracemalloc.start()
    for number in range(iterations):
        started = time.perf_counter()
        new = make_candidate(variant(rng.choice(texts), size + number), family="llm-new")
        islands.assign("llm-new", number % 3)
        islands.place(archive.update(size + number, new, result(rng)))
        parent = context.choose_parent(archive, islands, number % 3)
        chosen = tuple(Snippet(t.id, t.text) for t in tips.choose())
        build_writer_prompt(context.inputs(archive, parent, islands, tips=chosen))
        times_ms.append((time.perf_counter() - started) * 1e3)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "candidates": size,
        "median_ms": round(statistics.median(times_ms), 2),
        "max_ms": round(max(times_ms), 2),
        "peak_mib": round(peak / 2**20, 1),
        "front": len(archive.pareto()),
        "cells": sum(len(grid) for grid in islands.grids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args()
    at_scale = measure(args.candidates, args.iterations, seed=1)
    baseline = measure(100, args.iterations, seed=1)
    table = Table(title="One LLM iteration: archive and islands, parent, inspirations, tips, writer prompt")
    for column in ("archive", "median", "max", "traced peak", "Pareto front", "island cells"):
        table.add_column(column, justify="right")
    for figures in (at_scale, baseline):
        table.add_row(
            f"{figures['candidates']:,}",
            f"{figures['median_ms']:.2f} ms",
            f"{figures['max_ms']:.2f} ms",
            f"{figures['peak_mib']:.1f} MiB",
            str(figures["front"]),
            str(figures["cells"]),
        )
    Console().print(table)
    ratio = at_scale["median_ms"] / baseline["median_ms"]
    print(f"{args.candidates:,} / 100 candidates: {ratio:.2f}x per iteration (target: under 50 ms at 10k)")
    append_run(
        result_path("prompt_at_scale", "cpu"),
        {"benchmark": "prompt_at_scale", "command": "python benchmarks/prompt_at_scale.py"},
        {
            "commit": commit(),
            "machine": platform.processor() or platform.machine(),
            "at_scale": at_scale,
            "baseline": baseline,
            "ratio": round(ratio, 3),
        },
    )


if __name__ == "__main__":
    main()
