"""``crucible optimize``, ``runs``, ``show``, ``export`` and ``--resume`` end to end, in real subprocesses.

The problem is a user file with its own ``*_variants`` folder (``problem_file`` in conftest),
small enough that each candidate costs one process start; the built-in softmax is covered by
``make run``.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.service.conftest import TORCH_FAMILY, run_exported_tests

pytestmark = pytest.mark.slow  # whole optimizations in subprocesses


def verdicts(db: Path) -> list[tuple[int, str, str | None, str | None]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:  # never creates the file
        return conn.execute("SELECT id, hash, status, evaluated_at FROM candidates ORDER BY id").fetchall()


def test_optimize_reports_json_and_exports_a_kernel_that_tests_itself(
    crucible, crucible_env, problem_file: Path, tmp_path: Path
):  # type: ignore[no-untyped-def]
    out_dir = tmp_path / "exported"
    result = crucible("optimize", str(problem_file), "--budget", "5", "--export", str(out_dir), "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert {"run_id", "status", "evaluated", "best", "pareto"} <= report.keys()
    assert report["status"] == "completed" and report["evaluated"] == 5
    best = report["best"]
    assert best["status"] == "ok" and best["speedup"] > 0 and best["family"] == "torch_silu"
    assert report["pareto"] and all(p["status"] == "ok" for p in report["pareto"])
    assert best["candidate_id"] in {p["candidate_id"] for p in report["pareto"]}

    shown = crucible("show", str(report["run_id"]), "--json").json()
    statuses = {c["family"]: c["status"] for c in shown["candidates"]}
    assert statuses["triton_silu"] == "ok", "the Triton family ran under the interpreter and passed"
    assert all(c["speedup"] is None for c in shown["candidates"] if c["language"] == "triton")
    budget_ms = float(crucible_env["CRUCIBLE_TIMING_BUDGET_MS"])
    assert shown["limits"]["timing_budget_ms"] == budget_ms, "the run keeps the limits it started with"
    table = crucible("show", str(report["run_id"]))
    assert "judged by:" in table.stdout and f"timing_budget_ms={budget_ms}" in table.stdout
    listed = crucible("runs", "--json").json()
    assert listed[0]["run_id"] == report["run_id"] and listed[0]["evaluated"] == 5

    module = (out_dir / "silu_problem_kernel.py").read_text()
    assert "Crucible export" in module and "CONFIG = {" in module and "Device:" in module
    exported_test = run_exported_tests(out_dir, tmp_path)
    assert exported_test.returncode == 0, exported_test.stdout + exported_test.stderr
    assert "6 passed" in exported_test.stdout  # per shape: its config, and two trials


def test_resume_after_a_crash_evaluates_nothing_twice(
    crucible, crucible_env, problem_file: Path, tmp_path: Path
):  # type: ignore[no-untyped-def]
    db = tmp_path / "crucible.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "optimize", str(problem_file), "--budget", "7"],
        env=crucible_env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            if sum(1 for row in verdicts(db) if row[2]) >= 2:
                break
        except sqlite3.OperationalError:
            continue  # the store is still being created and migrated
    proc.send_signal(signal.SIGKILL)  # a crash: no cleanup, no status update
    proc.wait()
    before = {row[1]: row for row in verdicts(db) if row[2]}
    assert 2 <= len(before) < 7

    resumed = crucible("optimize", "--resume", "1", "--json")
    assert resumed.code == 0, resumed.stderr
    assert resumed.json()["evaluated"] == 7 and resumed.json()["status"] == "completed"
    after = verdicts(db)
    assert len(after) == 7 and all(row[2] for row in after)
    assert len({row[1] for row in after}) == 7, "no candidate identity stored twice"
    for hash_, row in before.items():
        assert next(r for r in after if r[1] == hash_) == row, "a finished candidate was evaluated again"

    again = crucible("optimize", "--resume", "1")
    assert again.code == 2 and "already completed" in again.stderr


def test_evaluate_json_contract(crucible, problem_file: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    good = problem_file.parent / "silu_problem_variants" / "torch_silu.py"
    result = crucible("evaluate", str(problem_file), str(good), "--config", "fused=false", "--json")
    assert result.code == 0, result.stderr
    data = result.json()
    assert {"status", "reason", "speedup", "shapes"} <= data.keys()
    assert data["status"] == "ok" and data["config"]["fused"] is False
    assert [s["shape"] for s in data["shapes"]] == ["a", "b"]
    assert all(s["median_us"] > 0 and s["achieved_gbps"] > 0 and s["samples"] >= 5 for s in data["shapes"])
    assert {"start", "correctness", "timing"} <= data["phase_seconds"].keys()

    plain = crucible("evaluate", str(problem_file), str(good), "--config", "fused=false")
    assert plain.code == 0 and "correctness" in plain.stdout.split("time:")[1], plain.stdout

    wrong = tmp_path / "wrong.py"
    wrong.write_text(TORCH_FAMILY.replace("F.silu(x)", "F.relu(x)"))
    bad = crucible("evaluate", str(problem_file), str(wrong), "--json")
    assert bad.code == 1
    assert bad.json()["status"] == "wrong_output" and bad.json()["speedup"] is None
