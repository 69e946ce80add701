"""Queue workers in threads of a serving process (``crucible serve``, ``crucible mcp``).

Each worker gets its own store connection pool. Leaving the context drains them: each finishes
or hands back the run it holds, so nothing it held is lost, and the run goes back to the queue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from service.settings import Settings
from service.worker import Worker
from store.repository import Store


@contextmanager
def queue_workers(settings: Settings, count: int) -> Iterator[list[Worker]]:
    pool = [Worker(settings, Store(settings.database_url, migrate=False)) for _ in range(count)]
    threads = [
        threading.Thread(target=w.run, name=f"crucible-worker-{i}", daemon=True) for i, w in enumerate(pool)
    ]
    for thread in threads:
        thread.start()
    try:
        yield pool
    finally:
        for worker in pool:
            worker.drain()
        for thread in threads:
            thread.join(timeout=settings.worker_lease_s)
        for worker in pool:
            worker.store.close()
