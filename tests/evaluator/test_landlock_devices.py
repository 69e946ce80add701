"""Under Landlock a candidate keeps its device files but not the shared memory other processes keep
in /dev/shm; a profiler's target (``shared_memory=True``) keeps that too."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluator.sandbox.isolation import detect_isolation
from evaluator.sandbox.landlock import device_paths

pytestmark = pytest.mark.skipif(detect_isolation().landlock_abi < 1, reason="Landlock is not available")

PROBE = """
import sys
from evaluator.sandbox import landlock
landlock.restrict([sys.argv[1]], shared_memory=sys.argv[2] == "shared")
def attempt(path, mode):
    try:
        with open(path, mode) as handle:
            handle.write("forged") if "+" in mode or "w" in mode else handle.read(8)
    except OSError as exc:
        return f"denied {exc.errno}"
    return "allowed"
target = sys.argv[3]
print(attempt(target, "r"), attempt(target, "r+"), attempt("/dev/null", "w"), attempt("/dev/urandom", "rb"))
"""


@pytest.fixture
def shared_file() -> Iterator[Path]:
    path = Path("/dev/shm") / f"crucible-test-{uuid.uuid4().hex}"
    path.write_text("another process's data")
    yield path
    path.unlink()


def probe(tmp_path: Path, mode: str, target: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), mode, str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_a_candidate_can_neither_read_nor_overwrite_shared_memory(tmp_path: Path, shared_file: Path) -> None:
    words = probe(tmp_path, "candidate", shared_file)
    assert words[:4] == ["denied", "13", "denied", "13"]  # EACCES, reading and writing in place
    assert words[4:] == ["allowed", "allowed"]  # /dev/null and /dev/urandom still work
    assert shared_file.read_text() == "another process's data"


def test_a_profiler_target_keeps_shared_memory(tmp_path: Path, shared_file: Path) -> None:
    assert probe(tmp_path, "shared", shared_file) == ["allowed"] * 4
    assert shared_file.read_text().startswith("forged")


def test_device_paths_skip_shared_memory_and_links() -> None:
    paths = device_paths(shared_memory=False)
    assert "/dev/null" in paths and "/dev/shm" not in paths
    assert not any(Path(p).is_symlink() for p in paths)
    assert device_paths(shared_memory=True) == ["/dev"]


def test_a_child_timed_on_the_cpu_gets_no_gpu_device_nodes(tmp_path: Path) -> None:
    for name in ("nvidia-caps", "dri", "kfd", "snd", "shm"):
        (tmp_path / name).mkdir()
    names = {Path(p).name for p in device_paths(shared_memory=False, accelerators=False, root=str(tmp_path))}
    assert names == {"snd"}
    names = {Path(p).name for p in device_paths(shared_memory=False, root=str(tmp_path))}
    assert names == {"nvidia-caps", "dri", "kfd", "snd"}
    names = {Path(p).name for p in device_paths(shared_memory=True, accelerators=False, root=str(tmp_path))}
    assert names == {"snd", "shm"}


def test_only_a_cuda_policy_lets_the_child_open_gpus() -> None:
    from evaluator.limits import EvalLimits
    from evaluator.reference import sandbox_policy
    from evaluator.sandbox.process import child_limits_arg

    assert child_limits_arg(sandbox_policy(EvalLimits(), "cpu")).endswith(":0")
    assert child_limits_arg(sandbox_policy(EvalLimits(), "cuda:1")).endswith(":1")
