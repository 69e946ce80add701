"""A control group per candidate: a process-count limit that binds even for root, and a memory cap.

``RLIMIT_NPROC`` never binds for uid 0, so a fork bomb from a candidate launched by a root
evaluator is contained here instead. The launcher moves itself into the group before it
starts the harness, so every descendant is counted; the evaluator removes the group, and
kills anything left in it, when the evaluation ends. cgroup v2 and the v1 ``pids``/``memory``
hierarchies are both handled; where neither is writable the group is skipped with a warning.

An evaluator that is killed cannot remove its groups. Once per process, before its first group,
the evaluator removes the empty ``crucible-*`` groups older than ten minutes that such deaths
left beside its own; a group with a process in it cannot be removed, and a newer one may be
another evaluator's, about to be joined.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("crucible.sandbox")
ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Cgroup:
    """One or more cgroup directories (one per v1 hierarchy, or one v2 directory) for one candidate."""

    directories: tuple[Path, ...]

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.directories]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for directory in self.directories:
            try:
                found.update(int(line) for line in (directory / "cgroup.procs").read_text().split())
            except OSError:
                continue
        return found

    def destroy(self) -> None:
        """Kill whatever is still inside, then remove the directories."""
        for _ in range(100):  # killed tasks leave the group once reaped: give that up to ~5 s
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            time.sleep(0.05)
        for directory in self.directories:
            try:
                directory.rmdir()
            except OSError as exc:
                log.warning("sandbox: could not remove %s: %s", directory, exc)


def _own_path(controller: str) -> str:
    """This process's cgroup path in a v1 hierarchy ("" for v2's unified one)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path.lstrip("/")
    return ""


def remove_stale_groups(parents: list[Path], older_than_s: float = 600.0) -> list[Path]:
    """Remove the empty ``crucible-*`` groups under ``parents`` last changed before the cut-off."""
    cutoff = time.time() - older_than_s
    removed = []
    for parent in parents:
        try:
            stale = [d for d in parent.glob("crucible-*") if d.is_dir() and d.stat().st_mtime < cutoff]
        except OSError:
            continue
        for directory in stale:
            try:
                directory.rmdir()  # refused while a process is inside
            except OSError:
                continue
            removed.append(directory)
    if removed:
        log.info("sandbox: removed %d cgroup(s) left by evaluators that were killed", len(removed))
    return removed


@functools.cache
def _sweep_once() -> None:
    if (ROOT / "cgroup.controllers").exists():
        parents = [ROOT / _own_path("")]
    else:
        parents = [ROOT / "pids" / _own_path("pids"), ROOT / "memory" / _own_path("memory")]
    remove_stale_groups(parents)


def create_cgroup(max_pids: int, memory_bytes: int | None) -> Cgroup | None:
    """A fresh group with the limits set, or None where this machine does not let us make one."""
    _sweep_once()
    name = f"crucible-{uuid.uuid4().hex[:12]}"
    made: list[Path] = []
    try:
        if (ROOT / "cgroup.controllers").exists():  # pure cgroup v2
            directory = ROOT / _own_path("") / name
            directory.mkdir()
            made.append(directory)
            (directory / "pids.max").write_text(str(max_pids))
            if memory_bytes:
                (directory / "memory.max").write_text(str(memory_bytes))
        else:
            directory = ROOT / "pids" / _own_path("pids") / name
            directory.mkdir()
            made.append(directory)
            (directory / "pids.max").write_text(str(max_pids))
            if memory_bytes and (ROOT / "memory").is_dir():
                memory_dir = ROOT / "memory" / _own_path("memory") / name
                memory_dir.mkdir()
                made.append(memory_dir)
                (memory_dir / "memory.limit_in_bytes").write_text(str(memory_bytes))
    except OSError as exc:
        for directory in made:
            try:
                directory.rmdir()
            except OSError:
                pass
        log.warning("sandbox: no cgroup for the candidate (%s); the process limit is an rlimit only", exc)
        return None
    return Cgroup(tuple(made))


def join(procs_files: list[str]) -> None:
    """Move the calling process into the group(s); used by the launcher before it starts the harness."""
    for procs in procs_files:
        with open(procs, "w") as fh:
            fh.write("0")
