"""Executors: where evaluations run. The local one keeps ``slots`` sandboxed children going at once."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from evaluator.evaluate import Evaluator
from evaluator.types import EvalResult
from kernels.candidate import Candidate


class LocalExecutor:
    """Runs each candidate in a fresh child process on this machine; threads only wait on children."""

    def __init__(self, evaluator: Evaluator, slots: int = 1) -> None:
        self.evaluator = evaluator
        self.slots = slots
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="crucible-eval")

    def submit(self, candidate: Candidate) -> Future[EvalResult]:
        return self._pool.submit(self.evaluator.evaluate, candidate)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.evaluator.close()

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
