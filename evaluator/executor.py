"""Executors: where evaluations run. The local one keeps ``slots`` sandboxed children going at once."""

from __future__ import annotations

import queue
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


class MultiDeviceExecutor:
    """One slot per device (``CUDA_VISIBLE_DEVICES`` pins each child to its GPU), all in parallel.

    The static gate runs on a CPU thread at submission, so a candidate it turns away never
    occupies a GPU slot; the rest queue for whichever device frees up first. Each device has
    its own evaluator, and so its own reference timing: results stay keyed by device.
    """

    def __init__(self, evaluators: list[Evaluator]) -> None:
        if not evaluators:
            raise ValueError("a MultiDeviceExecutor needs at least one evaluator")
        self.evaluators = evaluators
        self._idle: queue.Queue[Evaluator] = queue.Queue()
        for evaluator in evaluators:
            self._idle.put(evaluator)
        self._pool = ThreadPoolExecutor(max_workers=len(evaluators) + 1, thread_name_prefix="crucible-slot")

    @property
    def slots(self) -> int:
        return len(self.evaluators)

    def submit(self, candidate: Candidate) -> Future[EvalResult]:
        gated = self.evaluators[0].gate(candidate)
        if gated is not None:
            done: Future[EvalResult] = Future()
            done.set_result(gated)
            return done
        return self._pool.submit(self._on_free_device, candidate)

    def _on_free_device(self, candidate: Candidate) -> EvalResult:
        evaluator = self._idle.get()
        try:
            return evaluator.evaluate(candidate)
        finally:
            self._idle.put(evaluator)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for evaluator in self.evaluators:
            evaluator.close()

    def __enter__(self) -> MultiDeviceExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
