"""Launching and supervising a child process: stripped environment, own temp dir, stage deadlines.

The child reports JSON lines on a dedicated pipe. The parent gives each stage its own
wall-clock limit, kills the whole process group when a limit passes, and turns every way a
child can end (message, exit code, signal) into an event the evaluator maps to a status.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from evaluator.sandbox.cgroups import Cgroup, create_cgroup
from evaluator.sandbox.isolation import Isolation
from evaluator.types import Stage
from evaluator.wire.messages import ChildMessage, Malformed, StageEntered, parse_message

# Variables a child may inherit. Everything else (API keys, database URLs, tokens) is dropped.
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "CUDA_HOME", "TZ")
STAGE_ORDER = (Stage.LOAD, Stage.REFERENCE, Stage.CORRECTNESS, Stage.TIMING, Stage.DONE)
MAX_MESSAGE_BYTES = 1 << 20
STDERR_TAIL_BYTES = 4000


@dataclass(frozen=True)
class SandboxPolicy:
    """Limits for one child. Host memory is capped by the cgroup where there is one, and by the
    address space (``RLIMIT_AS``) where ``address_space_limit`` is set: never on CUDA, whose
    driver reserves far more address space than it uses."""

    memory_bytes: int | None
    cpu_threads: int
    stage_timeouts: Mapping[Stage, float]
    address_space_limit: bool = True
    max_open_files: int = 1024
    max_processes: int = 512  # threads count too; binds only for an unprivileged user
    isolation: Isolation | None = None  # None: a plain child process (the trusted reference)
    # Folders the child may read but never write: under Landlock, the trial inputs every candidate
    # of an evaluator shares (``evaluator.wire.shared_inputs``). Without Landlock they would be writable.
    read_only_paths: tuple[str, ...] = ()
    # Whether the child may open the GPUs' device nodes: not when it is timed on the CPU.
    accelerators: bool = True

    @property
    def total_timeout(self) -> float:
        return sum(self.stage_timeouts.values())


def child_environment(workdir: Path, extra: Mapping[str, str], cpu_threads: int) -> dict[str, str]:
    """A minimal environment: an allowlist of the parent's plus private HOME, TMPDIR and caches."""
    env = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}
    tmp = workdir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(tmp),
        TMPDIR=str(tmp),
        TRITON_CACHE_DIR=str(workdir / "triton_cache"),
        TORCHINDUCTOR_CACHE_DIR=str(workdir / "inductor_cache"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        OMP_NUM_THREADS=str(cpu_threads),
        MKL_NUM_THREADS=str(cpu_threads),
        # Inductor compiles in the calling thread: a pool of compile workers would outlive the
        # first call, and protocol item 5 allows no thread or process to do that.
        TORCHINDUCTOR_COMPILE_THREADS="1",
        GLIBC_TUNABLES=STEADY_MALLOC,
    )
    env.update(extra)
    return env


# glibc hands freed memory back to the OS by heuristics (trimming the heap, mapping blocks above
# a threshold that moves), so whether a call page-faults its scratch memory depended on what the
# process did before it: a call right after a file was loaded could take thousands of faults
# that the timed calls did not, and look 3-5x slower. With trimming off and the threshold fixed,
# the reference's and the candidate's processes reach one steady state after a few calls; blocks
# above 32 MiB (glibc's largest threshold) are mapped on every call, in every call alike.
STEADY_MALLOC = "glibc.malloc.trim_threshold=18446744073709551615:glibc.malloc.mmap_threshold=33554432"


@dataclass(frozen=True)
class ChildExit:
    """How the child ended: exit code (negative for a signal), or the stage whose limit it overran."""

    returncode: int | None
    timed_out_stage: Stage | None
    killed_by_us: bool
    stderr_tail: str
    signal_as_exit_code: bool = False


class SandboxedProcess:
    """One supervised child running ``python -m <module> <job>`` in its own session."""

    def __init__(
        self, module: str, job_path: Path, workdir: Path, env: Mapping[str, str], policy: SandboxPolicy
    ):
        self.policy = policy
        self.workdir = workdir
        self._stderr_path = workdir / "stderr.txt"
        read_fd, write_fd = os.pipe()
        self._read_fd = read_fd
        cmd = [sys.executable, "-m", module, str(job_path), str(write_fd), *child_args(policy)]
        self._cgroup: Cgroup | None = None
        if policy.isolation is not None:
            if policy.isolation.cgroups:
                self._cgroup = create_cgroup(policy.max_processes, policy.memory_bytes)
            procs = ",".join(self._cgroup.procs_files) if self._cgroup else "-"
            launcher = [sys.executable, "-m", "evaluator.sandbox.launcher", str(write_fd), procs]
            cmd = policy.isolation.wrap([*launcher, *cmd])
        with open(workdir / "stdout.txt", "wb") as out, open(self._stderr_path, "wb") as err:
            self._proc = subprocess.Popen(
                cmd,
                cwd=workdir,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        os.close(write_fd)
        self.stage = Stage.LOAD
        self._stage_deadline = time.monotonic() + policy.stage_timeouts.get(Stage.LOAD, 60.0)
        self._hard_deadline = time.monotonic() + policy.total_timeout
        self._killed = False
        self.timed_out_stage: Stage | None = None

    @property
    def pid(self) -> int:
        return self._proc.pid

    def events(self) -> Iterator[ChildMessage | Malformed]:
        """Yield the child's messages until it exits or overruns a stage limit."""
        selector = selectors.DefaultSelector()
        selector.register(self._read_fd, selectors.EVENT_READ)
        buffer = b""
        try:
            while True:
                now = time.monotonic()
                deadline = min(self._stage_deadline, self._hard_deadline)
                if now >= deadline:
                    self.timed_out_stage = self.stage
                    self.kill()
                    return
                if not selector.select(timeout=deadline - now):
                    continue
                chunk = os.read(self._read_fd, 65536)
                if not chunk:
                    return
                buffer += chunk
                if len(buffer) > MAX_MESSAGE_BYTES and b"\n" not in buffer:
                    buffer = b""  # an oversized unterminated line is noise, not a message
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    message = parse_message(line)
                    if message is None:
                        continue
                    if isinstance(message, StageEntered):
                        self._advance(message.stage)
                    yield message
        finally:
            selector.close()

    def _advance(self, stage: Stage) -> None:
        """Stages only move forward, so a child cannot buy time by repeating one."""
        if stage in STAGE_ORDER and STAGE_ORDER.index(stage) > STAGE_ORDER.index(self.stage):
            self.stage = stage
            self._stage_deadline = time.monotonic() + self.policy.stage_timeouts.get(stage, 60.0)

    def kill(self) -> None:
        """Kill the child's whole process group and any descendant that left it."""
        self._killed = True
        descendants = []
        try:
            descendants = psutil.Process(self._proc.pid).children(recursive=True)
        except psutil.Error:
            pass
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for proc in descendants:
            try:
                proc.kill()
            except psutil.Error:
                pass

    def finish(self, grace_s: float = 10.0) -> ChildExit:
        """Wait for the child, reap leftovers in its session, and close the pipe."""
        try:
            returncode = self._proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()
            returncode = self._proc.wait()
        self._reap_session()
        if self._cgroup is not None:
            self._cgroup.destroy()
        os.close(self._read_fd)
        in_pid_namespace = bool(self.policy.isolation and self.policy.isolation.pid_namespace)
        return ChildExit(
            returncode, self.timed_out_stage, self._killed, self._stderr_tail(), in_pid_namespace
        )

    def _reap_session(self) -> None:
        """Anything still alive in the child's session outlived it: kill it."""
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _stderr_tail(self) -> str:
        try:
            with open(self._stderr_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - STDERR_TAIL_BYTES))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""


def child_args(policy: SandboxPolicy) -> list[str]:
    """What follows the job (and message pipe) on a child's command line: its limits, then the
    folders it may only read (``apply_child_limits`` takes them back)."""
    return [child_limits_arg(policy), *policy.read_only_paths]


def child_limits_arg(policy: SandboxPolicy) -> str:
    """The hard limits a child applies to itself first thing, as one command-line argument."""
    isolation = policy.isolation
    landlock = int(bool(isolation and isolation.landlock_abi))
    # The process limit counts every process of the user and binds only without capabilities, so it
    # is set where the sandbox drops them (root); for an ordinary user it would count their desktop too.
    processes = policy.max_processes if isolation and isolation.drop_capabilities else 0
    address_space = (policy.memory_bytes or 0) if policy.address_space_limit else 0
    return f"{address_space}:{policy.max_open_files}:{processes}:{landlock}:{int(policy.accelerators)}"
