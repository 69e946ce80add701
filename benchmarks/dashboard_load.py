"""Dashboard page load at 100k evaluations, against a 1k-evaluation run in the same database.

A fresh PostgreSQL database gets a run of ``--evaluations`` judged candidates and a baseline run
of ``--baseline`` (bulk-inserted, ``benchmarks/seeding.py``). Two measures per page:

- server: the page's whole script under Streamlit's ``AppTest`` (queries, figures, layout), the
  first load of the run (nothing cached) and the median of ``--repeats`` later loads;
- browser (when Debian's chromium is here): ``crucible dashboard``'s Streamlit server, and the
  time from navigation until the run page's charts are drawn, or the overview's table.

Target: a run of 100k evaluations loads in under 2 s.

    .venv/bin/python benchmarks/dashboard_load.py     # table, and JSON in benchmarks/results/
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from dashboard.config import SESSION_KEY, DashboardConfig
from store.repository import Store

from databases import database
from result_files import append_run, commit, result_path
from seeding import finish_seeding, seed_run

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
TARGET_S = 2.0


def server_load(url: str, page: str | None, run_id: int) -> float:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[SESSION_KEY] = DashboardConfig(url)
    at.query_params["id"] = str(run_id)
    started = time.perf_counter()
    at.run()
    if page is not None:
        at.switch_page(page)
        started = time.perf_counter()  # the entry run drew the overview first; time the page alone
        at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"{page or 'overview'} raised: {at.exception[0].value}")
    return elapsed


def server_loads(url: str, run_id: int, repeats: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for name, page in (("run page", "pages/run.py"), ("overview", None)):
        first = server_load(url, page, run_id)
        later = [server_load(url, page, run_id) for _ in range(repeats)]
        figures[name] = {"first_s": round(first, 3), "median_s": round(statistics.median(later), 3)}
    return figures


def browser_loads(url: str, runs: dict[str, int], repeats: int) -> dict[str, dict[str, float]] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = os.environ | {"CRUCIBLE_DATABASE_URL": url}
    command = [sys.executable, "-m", "service.cli", "dashboard", "--port", str(port), "--no-worker"]
    server = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, float]] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(120_000)
            for label, run_id in runs.items():
                taken = []
                for _ in range(repeats + 1):
                    started = time.perf_counter()
                    page.goto(f"{base}/run?id={run_id}")
                    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")
                    taken.append(time.perf_counter() - started)
                results[label] = {
                    "first_s": round(taken[0], 3),
                    "median_s": round(statistics.median(taken[1:]), 3),
                }
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    args = parser.parse_args()
    console = Console()
    rng = random.Random(3)
    with database(args.backend) as url, Store(url) as store:
        with console.status(f"seeding {args.evaluations:,} + {args.baseline:,} evaluations"):
            big, small = seed_run(store, args.evaluations, rng), seed_run(store, args.baseline, rng)
            for run_id in (big, small):
                finish_seeding(store, run_id)
            if args.backend == "postgresql":
                with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
        with console.status("server-side loads (AppTest)"):
            server = {
                "at scale": server_loads(url, big, args.repeats),
                "baseline": server_loads(url, small, args.repeats),
            }
        with console.status("browser loads (chromium)"):
            browser = browser_loads(url, {"at scale": big, "baseline": small}, args.repeats)
    table = Table(
        title=f"Dashboard page load on {args.backend}: {args.evaluations:,} vs {args.baseline:,} evaluations"
    )
    for column in ("page", "measure", "run", "first load", "later loads (median)", "vs baseline"):
        table.add_column(column, justify="right")
    rows: list[dict[str, Any]] = []
    for page in ("run page", "overview"):
        for label in ("at scale", "baseline"):
            figures = server[label][page]
            ratio = figures["first_s"] / max(server["baseline"][page]["first_s"], 1e-9)
            rows.append(
                {"page": page, "measure": "server", "run": label, **figures, "first_ratio": round(ratio, 2)}
            )
    if browser is not None:
        for label in ("at scale", "baseline"):
            figures = browser[label]
            ratio = figures["first_s"] / max(browser["baseline"]["first_s"], 1e-9)
            rows.append(
                {
                    "page": "run page",
                    "measure": "browser",
                    "run": label,
                    **figures,
                    "first_ratio": round(ratio, 2),
                }
            )
    for row in rows:
        table.add_row(
            row["page"], row["measure"], row["run"], f"{row['first_s']:.2f} s", f"{row['median_s']:.2f} s",
            "baseline" if row["run"] == "baseline" else f"{row['first_ratio']:.2f}x",
        )  # fmt: skip
    console.print(table)
    worst = max(r["first_s"] for r in rows if r["run"] == "at scale")
    console.print(
        f"slowest first load at scale {worst:.2f} s; "
        f"target (< {TARGET_S:.0f} s): {'met' if worst < TARGET_S else 'MISSED'}"
    )
    append_run(
        result_path("dashboard_load", "cpu"),
        {"benchmark": "dashboard_load", "command": "python benchmarks/dashboard_load.py"},
        {
            "commit": commit(),
            "machine": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "backend": args.backend,
            "evaluations": args.evaluations,
            "baseline": args.baseline,
            "rows": rows,
            "target_met": worst < TARGET_S,
        },
    )


if __name__ == "__main__":
    main()
