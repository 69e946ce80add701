"""How the dashboard is told where things are: a JSON file named after ``--`` on its command line.

``crucible dashboard`` writes it (the service is the one place that reads the environment), with
owner-only permissions, since the database URL may hold a password that a command line would
show to every user of the machine. Tests hand a ``DashboardConfig`` in through the session state.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

SESSION_KEY = "crucible_config"


@dataclass(frozen=True)
class DashboardConfig:
    database_url: str
    api_url: str | None = None  # where start and cancel go; None: the dashboard is read-only
    refresh_s: float = 3.0  # how often a page with a live run redraws


def write_config(config: DashboardConfig, path: Path) -> Path:
    """Write ``config`` where only its owner can read it."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps(asdict(config)))
    return path


def parse_args(argv: Sequence[str]) -> DashboardConfig | None:
    """The config in the file ``--config`` names, or None when no file is named (the app was not
    started by ``crucible dashboard``)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    known, _ = parser.parse_known_args(list(argv))
    if not known.config:
        return None
    data = json.loads(Path(known.config).read_text())
    return DashboardConfig(
        str(data["database_url"]), data.get("api_url") or None, float(data.get("refresh_s", 3.0))
    )
