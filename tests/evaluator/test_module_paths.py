"""Every module path written as a string resolves: the ``-m`` targets the evaluator starts and
the functions the harness watches for tampering. A moved module must not turn either into a
failure seen only in a child process."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from evaluator.child.call_guards import WATCHED_ATTRIBUTES

EVALUATOR = Path(__file__).resolve().parents[2] / "evaluator"
# A quoted dotted path into the evaluator package, as -m targets and watched paths are written.
QUOTED_PATH = re.compile(r"""["'](evaluator(?:\.[a-z_]+)+)["']""")


def resolve(dotted: str) -> Any:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ModuleNotFoundError(dotted)


def quoted_paths() -> list[str]:
    found = set()
    for path in EVALUATOR.rglob("*.py"):
        found.update(QUOTED_PATH.findall(path.read_text()))
    return sorted(found)


def test_the_scan_finds_the_child_entry_points() -> None:
    assert {
        "evaluator.child.harness",
        "evaluator.child.reference_runner",
        "evaluator.sandbox.launcher",
    } <= set(quoted_paths())


@pytest.mark.parametrize("dotted", quoted_paths())
def test_every_quoted_module_path_resolves(dotted: str) -> None:
    assert resolve(dotted) is not None


@pytest.mark.parametrize(("owner", "name"), WATCHED_ATTRIBUTES, ids=lambda v: str(v))
def test_every_watched_function_resolves(owner: str, name: str) -> None:
    assert callable(getattr(resolve(owner), name))
