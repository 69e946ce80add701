"""How the dashboard is told where things are: arguments after ``--`` on its command line.

``crucible dashboard`` passes them (the service is the one place that reads the environment);
tests hand a ``DashboardConfig`` in through the session state instead.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

SESSION_KEY = "crucible_config"


@dataclass(frozen=True)
class DashboardConfig:
    database_url: str
    api_url: str | None = None  # where start and cancel go; None: the dashboard is read-only
    refresh_s: float = 3.0  # how often a page with a live run redraws


def parse_args(argv: Sequence[str]) -> DashboardConfig | None:
    """The config in ``argv``, or None when it names no database (not started by crucible)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--database-url")
    parser.add_argument("--api-url")
    parser.add_argument("--refresh-s", type=float, default=3.0)
    known, _ = parser.parse_known_args(list(argv))
    if not known.database_url:
        return None
    return DashboardConfig(known.database_url, known.api_url or None, known.refresh_s)
