"""Fixtures for the agent tests: test doubles for its seams, and real variant families on disk.

The executor double evaluates in-process from the candidate's config (a known latency
function), through real ``concurrent.futures``; the sandboxed evaluator is tested elsewhere.
The recorder keeps a run in memory and checks the loop's recording discipline as it goes.
Helpers are handed out as fixtures, so test modules need no shared helper module.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agent.archive import Archive
from agent.protocols import HistoryEntry
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate, read_config_space
from kernels.config import ConfigSpace
from kernels.families import VariantFamily

PYTORCH_FAMILY = '''"""Toy family {name}: scales its input."""

import torch

CONFIG_SPACE = {space!r}


class ModelNew(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * {scale}
'''

TRITON_FAMILY = '''"""Toy Triton family {name}: copies its input."""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {space!r}


@triton.jit
def copy_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * {scale}, mask=offs < n)


class ModelNew(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
'''


def write_family(tmp_path: Path, name: str, space: ConfigSpace, *, triton: bool = False) -> VariantFamily:
    """A real family file on disk, loaded the way kernels.families does."""
    template = TRITON_FAMILY if triton else PYTORCH_FAMILY
    path = tmp_path / f"{name}.py"
    path.write_text(template.format(name=name, space=space, scale=len(name) + sum(map(ord, name))))
    source = path.read_text(encoding="utf-8")
    return VariantFamily(name, path, source, read_config_space(source))


def ok(latency_us: float, *, error: float = 1e-6, mem: int = 1024, interpreted: bool = False) -> EvalResult:
    shape = ShapeMetrics("small", median_us=latency_us, samples=10, max_abs_err=error, peak_mem_bytes=mem)
    return EvalResult(Status.OK, Stage.DONE, "ok", shapes=(shape,), interpreted=interpreted)


def failed(status: Status, reason: str = "boom") -> EvalResult:
    return EvalResult(status, Stage.LOAD, reason)


def knob_latency(candidate: Candidate) -> float:
    """A known latency landscape: best at block=4 and warps=2, plus a per-family offset."""
    cfg = candidate.config.as_dict()
    block = cfg.get("block", 4)
    warps = cfg.get("warps", 2)
    return 10.0 + (block - 4) ** 2 + abs(warps - 2) + len(candidate.family)


def timed(candidate: Candidate) -> EvalResult:
    return ok(knob_latency(candidate))


Judge = Callable[[Candidate], EvalResult]


class FakeExecutor:
    """Evaluates with ``judge``, either inline (already-done futures) or on a thread pool."""

    def __init__(self, judge: Judge = timed, *, slots: int = 1, threaded: bool = False, delay_s: float = 0.0):
        self.slots = slots
        self.judge = judge
        self.delay_s = delay_s
        self.submitted: list[Candidate] = []
        self._pool = ThreadPoolExecutor(max_workers=8) if threaded else None

    def _evaluate(self, candidate: Candidate) -> EvalResult:
        if self.delay_s:
            time.sleep(self.delay_s)
        return self.judge(candidate)

    def submit(self, candidate: Candidate) -> Future[EvalResult]:
        self.submitted.append(candidate)
        if self._pool is not None:
            return self._pool.submit(self._evaluate, candidate)
        future: Future[EvalResult] = Future()
        try:
            future.set_result(self._evaluate(candidate))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


class MemoryRecorder:
    """An in-memory RunRecorder that checks the loop's recording discipline as it goes."""

    def __init__(self) -> None:
        self.candidates: dict[int, Candidate] = {}
        self.results: dict[int, EvalResult] = {}
        self.max_pending = 0
        self._lock = threading.Lock()

    def history(self) -> list[HistoryEntry]:
        return [HistoryEntry(i, c, self.results.get(i)) for i, c in self.candidates.items()]

    def add(self, candidate: Candidate) -> int:
        with self._lock:
            candidate_id = len(self.candidates) + 1
            self.candidates[candidate_id] = candidate
            self.max_pending = max(self.max_pending, len(self.candidates) - len(self.results))
            return candidate_id

    def record(self, candidate_id: int, result: EvalResult) -> None:
        with self._lock:
            assert candidate_id in self.candidates, f"record() for unknown id {candidate_id}"
            assert candidate_id not in self.results, f"id {candidate_id} recorded twice"
            self.results[candidate_id] = result

    @property
    def pending(self) -> list[int]:
        return [i for i in self.candidates if i not in self.results]

    def hashes(self) -> list[str]:
        return [c.hash for c in self.candidates.values()]


class ScriptedProposer:
    """Proposes a fixed list of candidates, then None; remembers what it observed."""

    name = "scripted"

    def __init__(self, script: list[Candidate], *, repeat_last: bool = False) -> None:
        self.script = list(script)
        self.repeat_last = repeat_last
        self.proposed = 0
        self.observed: list[tuple[Candidate, EvalResult]] = []

    def propose(self, archive: Archive) -> Candidate | None:
        if not self.script:
            return None
        self.proposed += 1
        if self.repeat_last and len(self.script) == 1:
            return self.script[0]
        return self.script.pop(0)

    def observe(self, candidate: Candidate, result: EvalResult) -> None:
        self.observed.append((candidate, result))


@pytest.fixture
def family_factory(tmp_path: Path) -> Callable[..., VariantFamily]:
    """``family_factory(name, space, triton=False)``: a family file written under tmp_path."""

    def build(name: str, space: ConfigSpace, *, triton: bool = False) -> VariantFamily:
        return write_family(tmp_path, name, space, triton=triton)

    return build


@pytest.fixture
def ok_result() -> Callable[..., EvalResult]:
    """``ok_result(latency_us, error=, mem=, interpreted=)``: an ok verdict with one shape."""
    return ok


@pytest.fixture
def failed_result() -> Callable[..., EvalResult]:
    """``failed_result(status, reason=)``: a verdict without metrics."""
    return failed


@pytest.fixture
def executor_factory() -> Iterator[Callable[..., FakeExecutor]]:
    """``executor_factory(judge=timed, slots=1, threaded=False, delay_s=0)``; pools closed after."""
    made: list[FakeExecutor] = []

    def build(judge: Judge = timed, **kwargs: Any) -> FakeExecutor:
        executor = FakeExecutor(judge, **kwargs)
        made.append(executor)
        return executor

    yield build
    for executor in made:
        executor.close()


@pytest.fixture
def recorder() -> MemoryRecorder:
    return MemoryRecorder()


@pytest.fixture
def scripted() -> type[ScriptedProposer]:
    return ScriptedProposer


@pytest.fixture
def latency_of() -> Callable[[Candidate], float]:
    """The executor double's known latency function."""
    return knob_latency
