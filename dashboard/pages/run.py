"""One run: its Pareto fronts, progress, verdicts over time, commonest failures and LLM account.

Every chart is one run, so one device. A click on a point opens that candidate.
"""

from __future__ import annotations

from typing import Any, Literal

import streamlit as st

from dashboard import figures, figures_search, formatting, navigation
from dashboard.context import PageContext, current
from store.errors import RunNotFound
from store.records import RunRecord
from store.runs import RunFilter
from store.search_views import RunSearch
from store.status import RunStatus
from store.views import RunCharts

LIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
SECTIONS = ["Pareto fronts", "Progress and failures", "Search", "Leaderboard", "LLM calls"]


def chart(fig: Any, key: str) -> None:
    """Draw a figure whose points carry candidate ids; a click opens the candidate."""
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points", width="stretch")
    points = event.selection.points if event is not None else []
    for point in points:
        custom = point.get("customdata")
        candidate = custom[0] if isinstance(custom, list | tuple) else custom
        if candidate is not None:
            navigation.open_candidate(int(candidate))


def header(ctx: PageContext, run: RunRecord, charts: RunCharts) -> None:
    progress = ctx.store.run_progress(run.id)
    st.title(f"Run {run.id} · {run.problem_name}")
    started = formatting.age(run.created_at)
    st.caption(f"{run.status.value} on `{run.device}` · proposer {run.proposer} · created {started} ago")
    if run.error:
        st.error(run.error)
    best = progress.best.result if progress.best is not None else None
    failed = sum(c.count for c in charts.statuses if c.status not in ("ok", "pending"))
    cols = st.columns(5)
    cols[0].metric("Evaluated", f"{progress.evaluated} / {run.budget}")
    cols[1].metric("Best speedup", formatting.speedup(best.speedup if best else None))
    cols[2].metric("Best latency", formatting.micros(best.latency_us if best else None))
    cols[3].metric("Failed", f"{failed}")
    cols[4].metric("LLM cost", formatting.usd(progress.llm_calls[4]), help=f"{progress.llm_calls[0]} calls")
    if run.budget:
        st.progress(min(progress.evaluated / run.budget, 1.0))


def fronts(run: RunRecord, charts: RunCharts) -> None:
    if not any(p.timed for p in charts.points):
        st.info("No timed candidates yet. On the CPU, Triton candidates run under the interpreter: "
                "checked for correctness, never timed, so they have no place on a speed front.")  # fmt: skip
    left, right = st.columns(2)
    with left:
        chart(figures.pareto_figure(charts.points, "max_abs_err", device=run.device), "front_error")
    with right:
        chart(figures.pareto_figure(charts.points, "peak_mem_bytes", device=run.device), "front_memory")
    st.markdown("**Per shape** — a kernel that wins at small sizes can lose at large ones")
    chart(figures.shape_fronts_figure(charts.shapes, device=run.device), "front_shapes")


AXES: dict[str, Literal["evaluated", "seconds", "cost_usd"]] = {
    "evaluations": "evaluated",
    "wall time": "seconds",
    "LLM spend": "cost_usd",
}


def progress(run: RunRecord, charts: RunCharts) -> None:
    picked = st.radio("Best speedup against", list(AXES), horizontal=True, key="axis")
    axis = AXES.get(str(picked), "evaluated")
    st.plotly_chart(figures.progress_figure(charts.progress, axis, device=run.device), width="stretch")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figures.status_timeline_figure(charts.timeline, device=run.device), width="stretch")
    with right:
        st.plotly_chart(figures.status_figure(charts.statuses), width="stretch")
    st.markdown("**Commonest failures**")
    if charts.failures:
        st.dataframe(
            [{"status": f.status, "count": f.count, "reason": f.reason} for f in charts.failures],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("No failures.")


def llm(charts: RunCharts, search: RunSearch) -> None:
    if not charts.models:
        st.info("No LLM calls: this run's candidates came from the offline proposer.")
        return
    left, right = st.columns(2)
    with left:
        st.plotly_chart(figures.llm_usage_figure(charts.models), width="stretch")
    with right:
        st.plotly_chart(figures_search.model_preference_figure(search.models), width="stretch")
        st.caption("Improvement per dollar is what the model bandit weighs; it samples around these "
                   "point estimates and keeps exploring.")  # fmt: skip


def search_view(ctx: PageContext, run: RunRecord) -> None:
    search = ctx.store.run_search(run.id)
    names = search.descriptors
    if not names:
        st.info("This run's candidates carry no MAP-Elites descriptors (they were stored before "
                "Crucible kept them), so there is no archive grid to draw.")  # fmt: skip
    else:
        left, right = st.columns(2)
        x = left.selectbox("Grid across", names, index=_index(names, search.x), key="grid_x")
        y = right.selectbox("Grid down", names, index=_index(names, search.y), key="grid_y")
        search = ctx.store.run_search(run.id, x, y)
        if search.x is not None and search.y is not None:
            fig = figures_search.archive_heatmap(
                search.cells, x_name=search.x, y_name=search.y, device=run.device
            )
            chart(fig, "archive")
    if search.islands:
        st.plotly_chart(figures_search.islands_figure(search.islands, device=run.device), width="stretch")
    chart(figures_search.lineage_figure(search.lineage, device=run.device), "lineage")
    st.caption("Lineage: green edges improved on their parent; a click on a node opens it.")


def _index(names: tuple[str, ...], wanted: str | None) -> int:
    return names.index(wanted) if wanted in names else 0


def leaderboard(ctx: PageContext, run: RunRecord) -> None:
    best = ctx.store.leaderboard(run.id, limit=25)
    if not best:
        st.caption("No ranked candidates yet.")
        return
    rows = [
        {
            "candidate": f"c{c.id}",
            "family": c.family,
            "origin": c.origin.value,
            "speedup": formatting.speedup(c.result.speedup if c.result else None),
            "latency": formatting.micros(c.result.latency_us if c.result else None),
            "max error": formatting.error(c.result.max_error if c.result else None),
        }
        for c in best
    ]
    picked = st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="leaderboard",
    )
    if picked is not None and picked.selection.rows:
        navigation.open_candidate(best[picked.selection.rows[0]].id)


def body(ctx: PageContext, run_id: int) -> None:
    run = ctx.store.get_run(run_id)
    charts = ctx.store.run_charts(run_id)
    header(ctx, run, charts)
    # One section at a time: a browser draws only the charts in sight.
    section = st.segmented_control(
        "Section", SECTIONS, default=SECTIONS[0], key="section", label_visibility="collapsed"
    )
    if section == "Progress and failures":
        progress(run, charts)
    elif section == "Search":
        search_view(ctx, run)
    elif section == "Leaderboard":
        leaderboard(ctx, run)
    elif section == "LLM calls":
        llm(charts, ctx.store.run_search(run.id))
    else:
        fronts(run, charts)


def pick_run(ctx: PageContext) -> None:
    runs, _ = ctx.store.runs_page(RunFilter(device=ctx.device), limit=50)
    st.title("Run")
    if not runs:
        st.info("No runs yet: start one on the Runs page, or `crucible optimize softmax --queue`.")
        return
    chosen = st.selectbox(
        "Open a run", runs, format_func=lambda r: f"run {r.id} · {r.problem_name} · {r.status.value}"
    )
    if chosen is not None and st.button("Open"):
        navigation.open_run(chosen.id)


def render() -> None:
    ctx = current()
    run_id = navigation.id_param()
    if run_id is None:
        pick_run(ctx)
        return
    try:
        run = ctx.store.get_run(run_id)
    except RunNotFound:
        st.error(f"There is no run {run_id}. Pick one on the Runs page.")
        return
    if ctx.device is not None and run.device != ctx.device:
        st.warning(f"Run {run_id} ran on `{run.device}`; the sidebar filters on `{ctx.device}`.")
    live = run.status in LIVE
    st.fragment(run_every=ctx.config.refresh_s if live else None)(body)(ctx, run_id)


render()
