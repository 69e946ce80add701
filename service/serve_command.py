"""``crucible serve``: the HTTP API under uvicorn, with queue workers beside it.

With no ``CRUCIBLE_API_TOKEN`` the API answers loopback clients only, so ``serve`` binds to a
loopback address and refuses any other: a token is what makes a public bind safe. ``--workers``
queue workers (one by default, none with ``--no-worker``) run in threads of the same process
(``service.worker_threads``); SIGTERM stops the server, then drains them, so the runs they held
go back to the queue.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from kernels.errors import CrucibleError
from service.settings import Settings
from service.worker_threads import queue_workers
from store.repository import Store

log = logging.getLogger("crucible.serve")


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str) -> None:
    """Refuse a bind that would expose the API without a token."""
    if settings.api_token is None and not is_loopback_host(host):
        raise CrucibleError(
            f"refusing to serve on {host} without a token: set CRUCIBLE_API_TOKEN, or bind to 127.0.0.1"
        )


@contextmanager
def signals_absorbed() -> Iterator[None]:
    """SIGTERM and SIGINT do nothing by themselves while uvicorn serves: uvicorn handles them,
    shuts down, then raises them again under the handlers it found, and those must not end the
    process before the workers drain."""
    absorbed = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in absorbed}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_serve(settings: Settings, *, host: str, port: int, workers: int, out: Console) -> None:
    import uvicorn

    from service.api.app import create_app

    check_bind(settings, host)
    if settings.api_token is None:
        out.print("no CRUCIBLE_API_TOKEN: serving loopback clients only")
    with Store(settings.database_url) as store:
        app = create_app(settings, store)
        with queue_workers(settings, workers):
            out.print(
                f"API on http://{host}:{port} (schema at /openapi.json), {workers} queue worker(s), {store!r}"
            )
            with signals_absorbed():
                uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info")).run()
        out.print("stopped; the runs the workers held are back in the queue")
