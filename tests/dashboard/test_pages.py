"""Every page loads under Streamlit's AppTest, on an empty store and on a seeded one, without an
exception, and shows what it should: the runs, a run's charts, a candidate's verdict and source."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.config import SESSION_KEY, DashboardConfig
from dashboard.context import CONTEXT_KEY

from .conftest import Seeded

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TIMEOUT_S = 60


def app(url: str, page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.session_state[SESSION_KEY] = DashboardConfig(url)
    at.run()
    if page is not None:
        for key, value in params.items():
            at.query_params[key] = value
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    shown = (*at.title, *at.caption, *at.markdown, *at.info, *at.error, *at.warning, *at.success)
    parts = [e.value for e in shown]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", [None, "pages/run.py", "pages/candidate.py"])
def test_every_page_loads_on_an_empty_store_and_says_what_to_do(empty_url: str, page: str | None) -> None:
    at = app(empty_url, page)
    shown = texts(at)
    assert "crucible optimize" in shown or "candidate" in shown.lower()


def test_the_overview_lists_the_run_with_its_progress(seeded: Seeded) -> None:
    at = app(seeded.url)
    assert [t.value for t in at.title] == ["Runs"]
    table = at.dataframe[0].value
    assert list(table["run"]) == [seeded.run_id]
    assert table["status"][0] == "queued" and table["evaluated"][0] == "30 / 40"
    assert "wrong_output" in table["failures"][0] and table["LLM cost"][0] == "$0.0300"
    assert "read-only" in texts(at)  # no API given: no start form, and it says so


def test_the_run_page_draws_its_fronts_and_progress(seeded: Seeded) -> None:
    at = app(seeded.url, "pages/run.py", id=str(seeded.run_id))
    assert at.title[0].value == f"Run {seeded.run_id} · softmax"
    charts = at.get("plotly_chart")
    assert len(charts) >= 6  # two fronts, per shape, progress, timeline, statuses (+ LLM usage)
    assert [m.label for m in at.metric][:2] == ["Evaluated", "Best speedup"]
    assert at.metric[0].value == "30 / 40"


def test_the_run_page_refuses_an_unknown_run_plainly(seeded: Seeded) -> None:
    at = app(seeded.url, "pages/run.py", id="4242")
    assert "There is no run 4242" in texts(at)


def test_the_candidate_page_shows_verdict_source_diff_and_prompt(seeded: Seeded) -> None:
    at = app(seeded.url, "pages/candidate.py", id=str(seeded.llm_candidate_id))
    assert at.title[0].value.startswith(f"Candidate c{seeded.llm_candidate_id}")
    assert any("ok" in s.value for s in at.success)
    codes = [c.value for c in at.code]
    assert any("class ModelNew" in c for c in codes)  # the source
    assert any("Make softmax 0 faster." in c for c in codes)  # the prompt that wrote it
    child = app(seeded.url, "pages/candidate.py", id=str(seeded.child_id))
    assert any(c.value.startswith("---") for c in child.code)  # the diff against its parent


def test_a_device_filter_with_no_runs_shows_the_empty_state(seeded: Seeded) -> None:
    at = app(seeded.url)
    at.sidebar.selectbox[0].select("cuda:0").run()
    assert not at.exception
    assert list(at.dataframe[0].value["device"]) == ["cuda:0"]
    assert at.session_state[CONTEXT_KEY].device == "cuda:0"
