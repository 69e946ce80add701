"""Protocol item 5 in the candidate's process: nothing a call started may still run when it returns.

A thread or a process left running could finish a call's output after the clock stopped. So the
harness looks for both after every call, timed ones included, and the look must be cheap:
Python's thread list, and the kernel's list of this process's children. The harness is made a
child subreaper first, so that a grandchild whose parent exited comes back to it, where the
look finds it, instead of to an ancestor outside.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
from collections.abc import Callable
from typing import Any

import psutil

PR_SET_CHILD_SUBREAPER = 36
_TASKS = "/proc/self/task"
# Taken when the harness imports this module, before any candidate code: replacing ``os.listdir``
# or ``open`` later cannot hide a child from the look.
_listdir, _open = os.listdir, open
# Where the kernel lacks the per-thread children files, psutil's slower walk stands in.
_KERNEL_LISTS_CHILDREN = os.path.exists(f"{_TASKS}/{threading.get_native_id()}/children")


def become_subreaper() -> None:
    """Orphaned descendants are re-parented to this process rather than to one further up."""
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def child_processes() -> list[int]:
    """This process's children, exited ones not yet reaped included.

    The kernel lists each thread's children in ``/proc/self/task/<tid>/children``: tens of
    microseconds, against milliseconds for psutil's walk over every process, which is the
    fallback where the kernel lacks that file.
    """
    if not _KERNEL_LISTS_CHILDREN:
        return [p.pid for p in psutil.Process().children()]
    pids: list[int] = []
    for tid in _listdir(_TASKS):
        try:
            with _open(f"{_TASKS}/{tid}/children") as fh:
                pids += [int(pid) for pid in fh.read().split()]
        except FileNotFoundError:  # the thread ended since the listing
            continue
    return pids


def quiet_library_threads() -> None:
    """Switch off the background threads that common libraries start for themselves and keep.

    An honest ``torch.compile`` candidate would otherwise be rejected for tqdm's monitor, a
    daemon that Inductor's progress bars start and that never ends. Its only job is to retune
    idle progress bars; ``monitor_interval = 0`` is tqdm's own way to do without it. (Inductor's
    compile pool is kept in-process through the ``TORCHINDUCTOR_COMPILE_THREADS=1`` of
    ``evaluator.sandbox.process.child_environment``.)
    """
    if importlib.util.find_spec("tqdm") is not None:
        import tqdm

        tqdm.tqdm.monitor_interval = 0


class LeftoverCheck:
    """What is still running after a call: threads started since this check was made, and any
    child process at all (the harness starts none of its own)."""

    def __init__(self) -> None:
        self._threads = {t.ident for t in threading.enumerate()}

    def leftovers(self) -> str | None:
        threads = [t.name for t in threading.enumerate() if t.ident not in self._threads and t.is_alive()]
        if threads:
            return f"left {len(threads)} thread(s) running after the call: {threads[:3]}"
        children = child_processes()
        if children:
            return f"left {len(children)} child process(es) behind after the call"
        return None


class StrayWork:
    """Protocol item 5 over the timed calls: a thread or process still running when a call returns.

    Such a worker could finish the call's output after the clock stopped, and be gone by the time
    the outputs are checked, so it is looked for after every sample (``after_sample`` wraps the
    timing's own per-sample callback), and once more at the end. ``since`` is taken before the
    candidate's module was loaded: a worker thread it started at import, idle between calls, is
    as able to finish an output late as one a call started.
    """

    def __init__(self, then: Callable[[int, Any], None], since: LeftoverCheck) -> None:
        self._then = then
        self._check = since
        self._found: str | None = None

    def after_sample(self, sample: int, output: Any) -> None:
        self._then(sample, output)
        if self._found is None:
            self._found = self._check.leftovers()

    def leftovers(self) -> str | None:
        return self._found or self._check.leftovers()
