"""The sandbox holds on this machine: each probe returns the right answer only if a wall stood.

Every probe is a real candidate in a real sandboxed process. It tries one escape; if the
escape works it returns zeros (a wrong output), so ``ok`` proves the wall held.
"""

from __future__ import annotations

import os
import sqlite3
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.sandbox.isolation import detect_isolation
from evaluator.types import Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem

LIMITS = EvalLimits(
    load_timeout_s=30,
    correctness_timeout_s=20,
    timing_timeout_s=20,
    warmup_ms=1,
    timing_budget_ms=5,
    min_samples=3,
    max_samples=10,
    max_processes=4096,
)
ISOLATION = detect_isolation()

PROBLEM = """
import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return x * 3


def get_inputs():
    return [torch.randn(8, 8)]


def get_init_inputs():
    return []
"""

PROBE = """
import os

import torch

_imp = __builtins__["__import__"] if isinstance(__builtins__, dict) else __builtins__.__import__


def escaped():
{body}


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.escaped = None

    def forward(self, x):
        if self.escaped is None:  # probe once; timing calls forward many more times
            self.escaped = escaped()
        return torch.zeros_like(x) if self.escaped else x * 3
"""


def probe(body: str) -> str:
    return PROBE.format(body=textwrap.indent(textwrap.dedent(body).strip(), "    "))


@pytest.fixture(scope="module")
def evaluator(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One evaluator for the module: the reference is built once, every probe is a new child."""
    root = tmp_path_factory.mktemp("sandbox")
    path = root / "triple_problem.py"
    path.write_text(PROBLEM)
    ev = Evaluator(load_problem(path), "cpu", LIMITS, secret_seed=11, workroot=root / "work")
    yield ev
    ev.close()


def run_probe(evaluator: Evaluator, body: str) -> None:
    result = evaluator.evaluate(make_candidate(probe(body)))
    assert result.status is Status.OK, f"the sandbox did not hold: {result.status.value}: {result.reason}"


def test_this_machine_provides_every_layer() -> None:
    if os.geteuid() != 0:
        pytest.skip("namespaces and capability dropping are tested where the evaluator runs as root")
    assert ISOLATION.network_namespace and ISOLATION.pid_namespace
    assert ISOLATION.drop_capabilities
    assert ISOLATION.landlock_abi >= 1


@pytest.mark.skipif(
    not ISOLATION.network_namespace and ISOLATION.landlock_abi < 4, reason="no network isolation"
)
def test_no_network(evaluator: Evaluator) -> None:
    run_probe(
        evaluator,
        """
        socket = _imp("socket")
        for port in (5432, 6379, 22, 80):
            s = socket.socket()
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", port))
                return True
            except OSError:
                pass
            finally:
                s.close()
        return False
    """,
    )


@pytest.mark.skipif(ISOLATION.landlock_abi == 0, reason="no Landlock on this kernel")
def test_writes_only_in_its_own_directory(evaluator: Evaluator, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    run_probe(
        evaluator,
        f"""
        builtins = _imp("builtins")
        with builtins.open("inside.txt", "w") as fh:  # its own work dir: allowed
            fh.write("ok")
        for target in ({str(outside)!r}, "/tmp/crucible_probe.txt", {str(Path.cwd() / "probe.txt")!r}):
            try:
                with builtins.open(target, "w") as fh:
                    fh.write("escaped")
                return True
            except OSError:
                pass
        return False
    """,
    )
    assert not outside.exists()


@pytest.mark.skipif(ISOLATION.landlock_abi == 0, reason="no Landlock on this kernel")
def test_cannot_read_reference_outputs_or_the_store(evaluator: Evaluator, tmp_path: Path) -> None:
    reference_dir = evaluator.reference().directory
    store = tmp_path / "crucible.db"
    sqlite3.connect(store).execute("CREATE TABLE secrets (x)").connection.commit()
    run_probe(
        evaluator,
        f"""
        builtins = _imp("builtins")
        for target in ({str(store)!r}, {str(reference_dir / "expected_default_0.pt")!r}):
            try:
                with builtins.open(target, "rb") as fh:
                    fh.read(1)
                return True
            except OSError:
                pass
        try:
            getattr(os, "list" + "dir")({str(reference_dir)!r})
            return True
        except OSError:
            return False
    """,
    )


@pytest.mark.skipif(not ISOLATION.cgroups, reason="no writable cgroup on this machine")
def test_process_limit_stops_a_fork_bomb(tmp_path: Path) -> None:
    path = tmp_path / "triple_problem.py"
    path.write_text(PROBLEM)
    small = EvalLimits(**{**LIMITS.__dict__, "max_processes": 48})
    ev = Evaluator(load_problem(path), "cpu", small, secret_seed=3, workroot=tmp_path / "work")
    try:
        run_probe(
            ev,
            """
            time = _imp("time")
            children = []
            try:
                for _ in range(200):
                    pid = getattr(os, "fo" + "rk")()
                    if pid == 0:
                        time.sleep(5)
                        getattr(os, "_ex" + "it")(0)
                    children.append(pid)
            except OSError:
                for pid in children:
                    getattr(os, "ki" + "ll")(pid, 9)
                    os.waitpid(pid, 0)
                return False
            return True
        """,
        )
    finally:
        ev.close()


@pytest.mark.skipif(not ISOLATION.drop_capabilities, reason="limits can be raised again with capabilities")
def test_memory_limit_cannot_be_raised(evaluator: Evaluator) -> None:
    run_probe(
        evaluator,
        f"""
        resource = _imp("resource")
        if resource.getrlimit(resource.RLIMIT_AS)[1] != {LIMITS.memory_limit_bytes}:
            return True
        try:
            resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            return True
        except (ValueError, OSError):
            return False
    """,
    )


def test_no_orphan_survives_the_evaluation(evaluator: Evaluator) -> None:
    marker = "31.337"
    result = evaluator.evaluate(
        make_candidate(
            probe(f"""
        if getattr(os, "fo" + "rk")() == 0:
            os.setsid()
            if getattr(os, "fo" + "rk")() == 0:
                getattr(os, "exec" + "v")("/bin/sleep", ["sleep", "{marker}"])
            getattr(os, "_ex" + "it")(0)
        return False
    """)
        )
    )
    assert result.status is Status.REJECTED  # it left a process behind during the call
    time.sleep(0.5)
    survivors = [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]
    for p in survivors:
        p.kill()
    assert survivors == [], "a daemonized grandchild outlived its sandbox"
