"""What a child does to itself first thing, before any candidate code runs: hard resource limits,
then Landlock. The parent's side (``evaluator.sandbox.process``) encodes the limits as one
command-line argument (``child_limits_arg``); this module decodes and applies them, and imports
nothing of the parent's supervision.
"""

from __future__ import annotations

from collections.abc import Sequence


def apply_child_limits(
    arg: str, workdir: str, *, read_only: Sequence[str] = (), profiler_ipc: bool = False
) -> None:
    """Called first thing in the child: hard limits, then Landlock, before any candidate code runs.

    ``profiler_ipc`` leaves abstract Unix sockets and ``/dev/shm`` reachable, for a process a
    profiler watches from outside its Landlock domain; only ever set inside a network namespace,
    which walls the sockets in.
    """
    import resource

    memory, open_files, processes, use_landlock, accelerators = (int(x) for x in arg.split(":"))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
    if processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    if use_landlock:
        from evaluator.sandbox import landlock

        landlock.restrict(
            [workdir],
            [*landlock.default_read_paths(), *read_only],
            scope_abstract_sockets=not profiler_ipc,
            shared_memory=profiler_ipc,
            accelerators=bool(accelerators),
        )
