"""``crucible worker``: a standalone worker, with a line per run it takes on stderr."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

from service.settings import Settings
from service.worker import RunEnd, Worker, drain_on_sigterm
from store.repository import Store


def run_worker(settings: Settings, *, until_idle: bool, out: Console) -> None:
    """Run a worker until SIGTERM or Ctrl-C (or, with ``until_idle``, until the queue is empty)."""
    logging.basicConfig(level=logging.INFO, handlers=[RichHandler(console=out, show_path=False)], force=True)
    with Store(settings.database_url) as store:
        worker = Worker(settings, store)
        out.print(f"worker {worker.name} on {store!r}, lease {settings.worker_lease_s:g} s")
        restore = drain_on_sigterm(worker)

        def report(end: RunEnd) -> None:
            state = end.status.value if end.status else "lost its lease"
            out.print(f"run {end.run_id}: {state}{': ' + end.error if end.error else ''}")

        try:
            worker.run(until_idle=until_idle, on_end=report)
        finally:
            restore()
        out.print(f"worker {worker.name} stopped" + (" (drained)" if worker.draining else ""))
