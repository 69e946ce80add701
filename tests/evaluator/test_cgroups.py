"""Groups that killed evaluators left behind are removed; live and fresh ones are kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

from evaluator.sandbox.cgroups import remove_stale_groups


def test_only_old_empty_groups_of_ours_are_removed(tmp_path: Path) -> None:
    hour_ago = time.time() - 3600
    for name in ("crucible-left", "crucible-busy", "crucible-fresh", "someone-elses"):
        (tmp_path / name).mkdir()
    (tmp_path / "crucible-busy" / "cgroup.procs").write_text("4242")  # a group with a process in it
    for name in ("crucible-left", "crucible-busy", "someone-elses"):
        os.utime(tmp_path / name, (hour_ago, hour_ago))
    removed = remove_stale_groups([tmp_path, tmp_path / "missing"])
    assert removed == [tmp_path / "crucible-left"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crucible-busy", "crucible-fresh", "someone-elses"]
