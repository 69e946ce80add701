"""Importing a candidate's file as the module ``candidate``, with its CONFIG in place.

Shared by every process that runs candidate code (the harness, the CPU pre-flight, the Nsight
Compute target), and light: it imports nothing heavy before the candidate does.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any


def load_candidate_module(path: str, config: dict[str, Any]) -> ModuleType:
    """Import the candidate with CONFIG injected before and after its module code runs."""
    spec = importlib.util.spec_from_file_location("candidate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.CONFIG = dict(config)  # type: ignore[attr-defined]
    sys.modules["candidate"] = module
    spec.loader.exec_module(module)
    module.CONFIG = dict(config)  # type: ignore[attr-defined]
    return module
