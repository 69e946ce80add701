"""Every page loads under Streamlit's AppTest, on an empty store and on a seeded one, without an
exception, and shows what it should: the runs, a run's charts, a candidate's verdict and source."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.config import SESSION_KEY, DashboardConfig
from store.repository import Store

from .conftest import Seeded, problem

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
    assert table["status"][0] == "completed" and table["evaluated"][0] == "30 / 40"
    assert "wrong_output" in table["failures"][0] and table["LLM cost"][0] == "$0.0300"
    assert "read-only" in texts(at)  # no API given: no start form, and it says so


def test_the_run_page_draws_its_fronts_and_progress(seeded: Seeded) -> None:
    at = app(seeded.url, "pages/run.py", id=str(seeded.run_id))
    assert at.title[0].value == f"Run {seeded.run_id} · softmax"
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # the fronts section: error, memory, per shape
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


def test_the_device_filter_keeps_other_devices_runs_out(seeded: Seeded, tmp_path: Path) -> None:
    with Store(seeded.url) as store:
        cpu_run = store.create_run(problem(tmp_path), device="cpu", proposer="offline", budget=3, seed=1)
    at = app(seeded.url)
    assert sorted(at.dataframe[0].value["run"]) == sorted([seeded.run_id, cpu_run])
    at.sidebar.selectbox[0].select("cuda:0").run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(at.dataframe[0].value["run"]) == [seeded.run_id]
    at.sidebar.selectbox[0].select("cpu").run()
    assert list(at.dataframe[0].value["run"]) == [cpu_run]


@pytest.mark.parametrize(
    ("section", "charts"),
    [("Progress and failures", 3), ("Search", 3), ("Leaderboard", 0), ("LLM calls", 2)],
)
def test_every_section_of_the_run_page_draws(seeded: Seeded, section: str, charts: int) -> None:
    at = app(seeded.url, "pages/run.py", id=str(seeded.run_id))
    at.segmented_control[0].select(section).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == charts
    if section == "Leaderboard":
        assert len(at.dataframe[0].value) == 24  # the ok, timed candidates, best first
