"""``crucible runs --watch``: the runs table, redrawn until every run in it has finished."""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live

from service import render
from store.repository import Store

REFRESH_S = 2.0


def watch_runs(store: Store, limit: int, out: Console) -> None:
    """Redraw the newest ``limit`` runs every two seconds; return once none is queued or running."""
    summaries = store.list_runs(limit)
    with Live(render.runs_table(summaries), console=out, refresh_per_second=2) as live:
        while any(not s.status.terminal for s in summaries):
            time.sleep(REFRESH_S)
            summaries = store.list_runs(limit)
            live.update(render.runs_table(summaries))
