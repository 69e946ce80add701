"""The dashboard in a real browser: ``crucible dashboard`` on a seeded store (with the API and a
queue worker it starts beside it, behind a token), driven by Playwright through Debian's
chromium. It opens a run, checks the drawn front, opens a candidate from the chart, and starts
and cancels a run through the form, checking the store after each step. Screenshots go to the
test's folder, and to ``$CRUCIBLE_SCREENSHOT_DIR`` when set (the README's come from there)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard.figures import front_mask
from store.repository import Store
from store.status import RunStatus

from .conftest import Seeded, seed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "browser-test-token"
VIEWPORT = {"width": 1400, "height": 900}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.serial,  # a browser, Streamlit, the API and a worker: the cores to itself
    pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install chromium"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Seeded, str]]:
    with Store(f"sqlite:///{tmp_path / 'crucible.db'}") as store:
        seeded = seed(store, tmp_path, n=80)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRUCIBLE_", "OPENAI_", "RAY_"))}
    env |= {"CRUCIBLE_DATABASE_URL": seeded.url, "CRUCIBLE_API_TOKEN": TOKEN, "CRUCIBLE_WORKER_POLL_S": "0.2"}
    env |= {"CRUCIBLE_WORKDIR": str(tmp_path / "work"), "CRUCIBLE_TIMING_BUDGET_MS": "30"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "dashboard", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, "crucible dashboard exited"
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not come up within 120 s")
        yield seeded, base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def shoot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    wanted = os.environ.get("CRUCIBLE_SCREENSHOT_DIR")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(wanted) / path.name)


def expected_front(store: Store, run_id: int) -> set[int]:
    """The 2-D front over (latency, max error) of the run's drawable points, brute force."""
    drawable = [p for p in store.run_charts(run_id).points if p.timed and p.max_abs_err is not None]
    mask = front_mask(
        [p.latency_us or 0.0 for p in drawable], [max(p.max_abs_err or 0.0, 1e-12) for p in drawable]
    )
    return {p.candidate_id for p, on in zip(drawable, mask, strict=True) if on}


def trace_ids(page: Any, chart: int, name: str) -> list[int]:
    """The candidate ids of a drawn trace, read from the plotly graph in the page."""
    ids: list[int] = page.evaluate(
        """([chart, name]) => {
            const plot = document.querySelectorAll('.js-plotly-plot')[chart];
            const trace = plot.data.find(t => t.name === name);
            return trace ? trace.customdata.map(c => Array.isArray(c) ? c[0] : c) : [];
        }""",
        [chart, name],
    )
    return ids


def wait_for_store(check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the store never showed the change"
        time.sleep(0.5)


def test_run_page_front_candidate_click_and_start_cancel_in_a_browser(
    served: tuple[Seeded, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    seeded, base = served
    store = Store(seeded.url, migrate=False)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)

            try:
                page.goto(f"{base}/")
                page.get_by_text("Start a run").wait_for()
                shoot(page, tmp_path, "runs")

                page.goto(f"{base}/run?id={seeded.run_id}")
                page.locator(".js-plotly-plot").first.wait_for()
                page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")
                front = trace_ids(page, 0, "front")
                assert set(front) == expected_front(store, seeded.run_id) and front
                drawn = page.locator(".js-plotly-plot").first.locator(".scatterlayer .trace").nth(1)
                assert drawn.locator("path.point").count() == len(front)
                shoot(page, tmp_path, "run")
                page.get_by_text("Search", exact=True).click()
                page.get_by_text("green edges improved on their parent").wait_for()
                page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2")
                shoot(page, tmp_path, "run-search")
                page.get_by_text("Pareto fronts", exact=True).click()
                page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")
                drawn = page.locator(".js-plotly-plot").first.locator(".scatterlayer .trace").nth(1)

                point = drawn.locator("path.point").first
                point.click(force=True)
                page.wait_for_url("**/candidate?id=*")
                opened = int(page.url.rsplit("=", 1)[1])
                assert opened in front
                page.get_by_text(f"Candidate c{opened}").first.wait_for()
                page.get_by_text("class ModelNew").first.wait_for()
                shoot(page, tmp_path, "candidate")

                page.goto(f"{base}/")
                page.get_by_label("API token", exact=True).fill(TOKEN)
                page.get_by_label("API token", exact=True).press("Enter")
                page.get_by_text("Queue run").wait_for()
                budget = page.get_by_label("Budget (evaluations)")
                budget.fill("400")
                budget.press("Tab")
                before = {r.id for r in store.list_runs()}
                page.get_by_role("button", name="Queue run").click()
                page.get_by_text("queued run").wait_for()
                (new_run,) = [r for r in store.list_runs() if r.id not in before]
                assert new_run.budget == 400 and new_run.problem_name == "softmax"
                wait_for_store(lambda: store.get_run(new_run.id).status is RunStatus.RUNNING, timeout=120)
                page.reload()
                page.get_by_label("API token", exact=True).fill(TOKEN)
                page.get_by_label("API token", exact=True).press("Enter")
                page.get_by_role("button", name="Cancel").first.wait_for()
                page.get_by_role("button", name="Queue run").wait_for()  # the token is in
                shoot(page, tmp_path, "runs-live")
                page.get_by_role("button", name="Cancel").first.click()
                page.get_by_text("cancel requested").wait_for()
                wait_for_store(lambda: store.get_run(new_run.id).status is RunStatus.CANCELLED, timeout=120)
            except Exception:
                shoot(page, tmp_path, "failure")  # what the page showed when a step failed
                raise
            browser.close()
    finally:
        store.close()
