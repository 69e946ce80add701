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
    """One slot per device (``CUDA_VISIBLE_DEVICES`` pins each child to its GPU), all in parallel,
    with the CPU-side checks running ahead of them.

    The static gate runs at submission, on the caller's thread. Then a CPU pool imports the
    candidate in a sandboxed process with no GPU visible (``evaluator.preflight``) while the
    devices evaluate earlier candidates. Only a candidate that passes both queues for whichever
    device frees up first, so a broken one never holds a GPU. Each device has its own
    evaluator, and so its own reference timing: results stay keyed by device.
    """

    def __init__(self, evaluators: list[Evaluator], preflight_slots: int = 1) -> None:
        if not evaluators:
            raise ValueError("a MultiDeviceExecutor needs at least one evaluator")
        self.evaluators = evaluators
        self.preflight_slots = max(0, preflight_slots)
        self._idle: queue.Queue[Evaluator] = queue.Queue()
        for evaluator in evaluators:
            self._idle.put(evaluator)
        self._pool = ThreadPoolExecutor(max_workers=len(evaluators) + 1, thread_name_prefix="crucible-slot")
        self._checks = (
            ThreadPoolExecutor(max_workers=self.preflight_slots, thread_name_prefix="crucible-preflight")
            if self.preflight_slots
            else None
        )

    @property
    def slots(self) -> int:
        """Candidates worth keeping in flight: one per device, plus those being checked meanwhile."""
        return len(self.evaluators) + self.preflight_slots

    def submit(self, candidate: Candidate) -> Future[EvalResult]:
        gated = self.evaluators[0].gate(candidate)
        if gated is not None:
            done: Future[EvalResult] = Future()
            done.set_result(gated)
            return done
        if self._checks is None:
            return self._pool.submit(self._on_free_device, candidate)
        outcome: Future[EvalResult] = Future()
        checked = self._checks.submit(self.evaluators[0].preflight, candidate)
        checked.add_done_callback(lambda f: self._after_preflight(f, candidate, outcome))
        return outcome

    def _after_preflight(
        self, checked: Future[EvalResult | None], candidate: Candidate, outcome: Future[EvalResult]
    ) -> None:
        try:
            verdict = checked.result()
        except BaseException as exc:  # an evaluator error reaches the caller as it would from a slot
            outcome.set_exception(exc)
            return
        if verdict is not None:
            outcome.set_result(verdict)
            return
        self._pool.submit(self._on_free_device, candidate).add_done_callback(lambda f: _settle(outcome, f))

    def _on_free_device(self, candidate: Candidate) -> EvalResult:
        evaluator = self._idle.get()
        try:
            return evaluator.evaluate(candidate)
        finally:
            self._idle.put(evaluator)

    def close(self) -> None:
        if self._checks is not None:
            self._checks.shutdown(wait=True)  # first: a passing pre-flight still queues for a device
        self._pool.shutdown(wait=True)
        for evaluator in self.evaluators:
            evaluator.close()

    def __enter__(self) -> MultiDeviceExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _settle(outcome: Future[EvalResult], finished: Future[EvalResult]) -> None:
    """Hand a finished future's result or exception on to the one the caller holds."""
    error = finished.exception()
    if error is not None:
        outcome.set_exception(error)
    else:
        outcome.set_result(finished.result())
