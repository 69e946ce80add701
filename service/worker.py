"""A worker: claims queued runs from the store and runs them, under a lease it keeps renewing.

The runs table is the queue (``store.queue``). A worker claims the oldest queued run, or one
whose worker died, and runs it with ``execute_run``, which resumes from whatever the store
holds, so a reclaimed run loses nothing and evaluates nothing twice. A heartbeat thread renews
the lease every third of ``CRUCIBLE_WORKER_LEASE_S``; it also carries two signals back:

- a cancel requested through the API or the CLI stops the search within a heartbeat, and the
  run ends ``cancelled``;
- a lease found lost (the worker was cut off for longer than its lease and another took the
  run) stops the search at once, and this worker writes nothing more to that run.

SIGTERM (or ``Worker.drain``) drains: the worker stops claiming, stops its search (evaluations
in flight are awaited and recorded), hands the run back to the queue and returns. A run that
fails with an unexpected error goes back to the queue with the error counted; the same error on
``CRUCIBLE_WORKER_MAX_FAILURES`` claims in a row marks it failed. An evaluator error (a broken
reference, for one) fails the run at once: no other worker would do better.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import FrameType

from evaluator.errors import EvaluatorError
from service.runner import execute_run
from service.settings import Settings
from store.queue import Lease
from store.repository import Store
from store.status import RunStatus

log = logging.getLogger("crucible.worker")


def worker_name() -> str:
    """Host, process and a random suffix: unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class RunEnd:
    """How one claimed run ended for this worker."""

    run_id: int
    status: RunStatus | None  # None: the lease was lost, the run is another worker's now
    error: str | None = None


class _Heartbeat:
    """Renews a lease in the background and remembers what the renewals said."""

    def __init__(self, store: Store, lease: Lease, lease_s: float) -> None:
        self._store = store
        self._lease = lease
        self._lease_s = lease_s
        self._stop = threading.Event()
        self.cancel = lease.cancel_requested
        self.lost = False
        self._thread = threading.Thread(target=self._beat, name=f"crucible-lease-{lease.run_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._lease_s)

    def _beat(self) -> None:
        while not self._stop.wait(self._lease_s / 3):
            try:
                renewed = self._store.renew_lease(self._lease.run_id, self._lease.worker, self._lease_s)
            except Exception as exc:  # the database is away: keep trying until the lease runs out
                log.warning("run %s: could not renew the lease: %s", self._lease.run_id, exc)
                continue
            self.cancel = self.cancel or renewed.cancel_requested
            if not renewed.held:
                self.lost = True
                return


class Worker:
    """Claims and runs queued runs until drained."""

    def __init__(self, settings: Settings, store: Store, *, name: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.name = name or worker_name()
        self._draining = threading.Event()
        # With until_idle: the running runs' heartbeats when the queue first looked empty.
        self._watched: dict[int, datetime | None] | None = None

    def drain(self) -> None:
        """Stop claiming, stop the run in hand and give it back to the queue."""
        self._draining.set()

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    def run(self, *, until_idle: bool = False, on_end: Callable[[RunEnd], None] | None = None) -> None:
        """Claim and run until drained (or, with ``until_idle``, until the queue is empty and no
        dead worker's run is waiting for its lease to lapse)."""
        while not self.draining:
            try:
                ended = self.run_one()
            except Exception as exc:  # the store is away (a database restart): the lease will lapse,
                log.warning("worker %s: %s; retrying", self.name, exc)  # and the run is reclaimed
                self._draining.wait(min(self.settings.worker_lease_s, 5.0))
                continue
            if ended is None:
                if until_idle and self._idle():
                    return
                self._draining.wait(self.settings.worker_poll_s)
                continue
            self._watched = None  # a run was claimed: what the queue holds is looked at afresh
            if on_end is not None:
                on_end(ended)

    def _idle(self) -> bool:
        """Nothing to claim, and no running run that may still become claimable.

        A run another worker holds is watched from the first time the queue looked empty: once
        its heartbeat moves, its worker is alive and the run is not ours to wait for; one whose
        heartbeat never moves is a dead worker's, and its lease lapses within a lease, when
        ``run_one`` claims it.
        """
        beats = self.store.running_heartbeats()
        if self._watched is None:
            self._watched = beats
        return not any(run in beats and beats[run] == beat for run, beat in self._watched.items())

    def run_one(self) -> RunEnd | None:
        """Claim one run and take it as far as it goes; None when the queue is empty."""
        settings = self.settings
        lease = self.store.claim_run(
            self.name, settings.worker_lease_s, max_failures=settings.worker_max_failures
        )
        if lease is None:
            return None
        log.info("run %s: claimed by %s", lease.run_id, self.name)
        with _Heartbeat(self.store, lease, settings.worker_lease_s) as beat:

            def should_stop() -> bool:
                return self.draining or beat.cancel or beat.lost

            def stopped_as() -> RunStatus | None:
                if beat.lost:
                    return None
                return RunStatus.CANCELLED if beat.cancel else RunStatus.QUEUED

            try:
                execute_run(
                    self.store, settings, lease.run_id, should_stop=should_stop, stopped_as=stopped_as
                )
            except EvaluatorError as exc:  # execute_run marked it failed: final, whoever runs it
                return self._release(lease, beat, str(exc))
            except (Exception, KeyboardInterrupt) as exc:
                return self._hand_back(lease, beat, f"{type(exc).__name__}: {exc}")
        return self._release(lease, beat, None)

    def _release(self, lease: Lease, beat: _Heartbeat, error: str | None) -> RunEnd:
        if beat.lost:
            return RunEnd(lease.run_id, None, "the lease was lost; another worker has the run")
        status = self.store.get_run(lease.run_id).status
        if status is RunStatus.QUEUED:  # drained: back in the queue, uncounted
            self.store.hand_back_run(lease.run_id, self.name)
        else:
            self.store.release_run(lease.run_id, self.name)
        log.info("run %s: %s", lease.run_id, status.value)
        return RunEnd(lease.run_id, status, error)

    def _hand_back(self, lease: Lease, beat: _Heartbeat, failure: str) -> RunEnd:
        if beat.lost:
            return RunEnd(lease.run_id, None, failure)
        status = self.store.hand_back_run(
            lease.run_id, self.name, failure, max_failures=self.settings.worker_max_failures
        )
        log.warning("run %s: %s; now %s", lease.run_id, failure, status.value if status else "not ours")
        return RunEnd(lease.run_id, status, failure)


def drain_on_sigterm(worker: Worker) -> Callable[[], None]:
    """Make SIGTERM (and SIGINT) drain ``worker``; returns a function that restores the handlers.
    Only the main thread may set signal handlers."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: draining %s", signum, worker.name)
        worker.drain()

    for sig in previous:
        signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
