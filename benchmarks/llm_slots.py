"""How busy the evaluation slots stay while a model writes: the LLM proposer's pipelining, measured.

A scripted OpenAI-compatible server on loopback answers every call after ``--delay-s`` (2 s),
with a new structure each time; evaluations take ``--eval-s`` each on ``--slots`` slots (an
executor that holds a slot for that long, so the figure is the agent's, not the evaluator's).
Slot utilization is the evaluations' busy time over slots x wall time. The baseline, in the same
run, asks the model only when a slot is free (no lookahead), as a synchronous proposer would.

    .venv/bin/python benchmarks/llm_slots.py            # table, and JSON in benchmarks/results/
"""

from __future__ import annotations

import argparse
import itertools
import platform
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the scripted server lives in tests/

from rich.console import Console
from rich.table import Table

from agent.calls import MemoryCallLog
from agent.llm.client import LLMClientConfig
from agent.llm.models import ModelWeight
from agent.llm_proposer import LLMProposer, LLMSettings
from agent.loop import run_search
from agent.prompt_types import ProblemBrief
from agent.protocols import HistoryEntry
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate
from tests.fakes.scripted_llm import Delay, Reply, ScriptedLLM

from result_files import append_run, commit, result_path

REFERENCE = "import torch\n\n\nclass Model(torch.nn.Module):\n    def forward(self, x):\n        return x\n"


def answer(number: int) -> str:
    """A new structure each time: a chain of ``number`` operations (never a repeat)."""
    ops = "".join("\n        x = x + 1 - 1" if i % 2 else "\n        x = x * 1" for i in range(number))
    head = "```python\nimport torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):"
    return f"{head}{ops}\n        return x\n```\n"


class SlotExecutor:
    """Holds a slot for ``eval_s`` per candidate and records how long each evaluation ran."""

    def __init__(self, slots: int, eval_s: float) -> None:
        self.slots = slots
        self.eval_s = eval_s
        self.busy_s = 0.0
        self._pool = ThreadPoolExecutor(max_workers=slots)

    def _evaluate(self, candidate: Candidate) -> EvalResult:
        started = time.monotonic()
        time.sleep(self.eval_s)
        self.busy_s += time.monotonic() - started
        shape = ShapeMetrics("small", median_us=10.0, samples=10, max_abs_err=0.0, speedup=1.0)
        return EvalResult(Status.OK, Stage.DONE, "ok", shapes=(shape,))

    def submit(self, candidate: Candidate) -> Future[EvalResult]:
        return self._pool.submit(self._evaluate, candidate)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def measure(lookahead: bool, slots: int, delay_s: float, eval_s: float, budget: int) -> dict[str, float]:
    numbers = itertools.count(1)
    with ScriptedLLM(lambda _: Delay(delay_s, Reply(answer(next(numbers))))) as llm:
        config = LLMClientConfig(base_url=llm.base_url, max_concurrent=slots, attempt_timeout_s=30.0)
        proposer = LLMProposer(
            ProblemBrief("identity", REFERENCE, "small"),
            [],
            LLMSettings((ModelWeight("scripted"),), max_concurrent=slots, lookahead=None if lookahead else 0),
            config,
            MemoryCallLog(),
        )
        executor = SlotExecutor(slots, eval_s)
        started = time.monotonic()
        try:
            outcome = run_search(proposer, executor, _NullRecorder(), budget)
        finally:
            proposer.close()
            executor.close()
        wall_s = time.monotonic() - started
    return {
        "evaluated": outcome.evaluated,
        "wall_s": round(wall_s, 2),
        "utilization": round(executor.busy_s / (slots * wall_s), 3),
    }


class _NullRecorder:
    def __init__(self) -> None:
        self._next = 0

    def history(self) -> list[HistoryEntry]:
        return []

    def add(self, candidate: Candidate) -> int:
        self._next += 1
        return self._next

    def record(self, candidate_id: int, result: EvalResult) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--delay-s", type=float, default=2.0)
    parser.add_argument("--eval-s", type=float, default=2.0)
    parser.add_argument("--budget", type=int, default=16)
    args = parser.parse_args()
    pipelined = measure(True, args.slots, args.delay_s, args.eval_s, args.budget)
    baseline = measure(False, args.slots, args.delay_s, args.eval_s, args.budget)
    table = Table(
        title=f"Slot utilization: {args.slots} slots, {args.delay_s:g} s calls, {args.eval_s:g} s evaluations"
    )
    for column in ("proposer", "evaluated", "wall", "utilization"):
        table.add_column(column)
    for name, figures in (("lookahead (default)", pipelined), ("ask on a free slot (baseline)", baseline)):
        table.add_row(
            name, str(figures["evaluated"]), f"{figures['wall_s']:.1f} s", f"{figures['utilization']:.0%}"
        )
    Console().print(table)
    ratio = pipelined["utilization"] / baseline["utilization"]
    print(f"lookahead / baseline utilization: {ratio:.2f}x (target: 80% or more with lookahead)")
    machine = platform.processor() or platform.machine()
    append_run(
        result_path("llm_slots", "cpu"),
        {"benchmark": "llm_slots", "command": "python benchmarks/llm_slots.py"},
        {
            "commit": commit(),
            "machine": machine,
            "args": vars(args),
            "pipelined": pipelined,
            "baseline": baseline,
            "ratio": round(ratio, 3),
        },
    )


if __name__ == "__main__":
    main()
