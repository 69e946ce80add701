"""Protocol item 5 in the child: threads and processes still running after a call are found."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from evaluator.child.leftovers import LeftoverCheck, StrayWork, child_processes


def test_a_thread_running_after_a_timed_call_is_named_even_once_it_has_ended() -> None:
    offered: list[int] = []
    strays = StrayWork(lambda sample, _: offered.append(sample), since=LeftoverCheck())
    strays.after_sample(0, None)
    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="finisher")
    worker.start()
    strays.after_sample(1, None)  # the call returned with the thread still running
    release.set()
    worker.join()
    strays.after_sample(2, None)
    assert offered == [0, 1, 2]
    found = strays.leftovers()
    assert found is not None and "finisher" in found


def test_a_thread_that_ends_within_the_call_is_no_stray() -> None:
    strays = StrayWork(lambda sample, _: None, since=LeftoverCheck())
    worker = threading.Thread(target=lambda: None)
    worker.start()
    worker.join()
    strays.after_sample(0, None)
    assert strays.leftovers() is None


def test_a_worker_started_before_the_timed_calls_is_a_stray_too() -> None:
    since = LeftoverCheck()  # as the harness takes it, before the candidate's module is loaded
    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="idle-worker")
    worker.start()  # as at the candidate's import
    try:
        strays = StrayWork(lambda sample, _: None, since=since)
        strays.after_sample(0, None)
        found = strays.leftovers()
        assert found is not None and "idle-worker" in found
    finally:
        release.set()
        worker.join()


def test_a_child_process_is_found_even_once_it_has_exited() -> None:
    check = LeftoverCheck()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        assert child.pid in child_processes()
        child_exited = check.leftovers()
        assert child_exited is not None and "1 child process" in child_exited
    finally:
        child.wait()
    assert child.pid not in child_processes()  # once reaped it is gone
    assert check.leftovers() is None


# Run in a process of its own: making pytest a subreaper would change how it reaps.
ORPHANS = textwrap.dedent(
    """
    import subprocess, sys, time
    from evaluator.child.leftovers import LeftoverCheck, become_subreaper
    if sys.argv[1] == "subreaper":
        become_subreaper()
    check = LeftoverCheck()
    # The shell starts a sleeper in the background and exits: the sleeper is an orphan.
    subprocess.run(["sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $! > " + sys.argv[2]], check=True)
    time.sleep(0.2)
    print(check.leftovers())
    """
)


def test_a_grandchild_orphaned_by_its_parent_comes_back_to_a_subreaper(tmp_path: Path) -> None:
    found: dict[str, str] = {}
    for mode in ("subreaper", "plain"):
        pid_file = tmp_path / f"{mode}.pid"
        run = subprocess.run(
            [sys.executable, "-c", ORPHANS, mode, str(pid_file)], capture_output=True, text=True, timeout=60
        )
        subprocess.run(["kill", pid_file.read_text().strip()], check=False)
        assert run.returncode == 0, run.stderr
        found[mode] = run.stdout.strip()
    assert "1 child process" in found["subreaper"]
    assert found["plain"] == "None"  # without it the orphan escapes to an ancestor, out of sight
