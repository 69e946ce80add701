"""Runs overview: every run with its status and progress, a form to start one, and cancel buttons."""

from __future__ import annotations

import streamlit as st

from dashboard import formatting, navigation
from dashboard.actions import ApiError, RunRequest
from dashboard.context import PageContext, current
from store.records import RunSummary
from store.runs import RunFilter
from store.status import RunStatus
from store.views import RunTally

PAGE_SIZE = 50
LIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
PROPOSERS = ("auto", "offline", "llm")


def failures(tally: RunTally | None) -> str:
    if tally is None:
        return ""
    return " · ".join(f"{c.status} {c.count}" for c in tally.statuses if c.status != "ok")


def runs_table(ctx: PageContext, runs: list[RunSummary], tallies: dict[int, RunTally]) -> None:
    rows = [
        {
            "run": r.id,
            "problem": r.problem_name,
            "status": r.status.value,
            "progress": min(r.evaluated / r.budget, 1.0) if r.budget else 0.0,
            "evaluated": f"{r.evaluated} / {r.budget}",
            "best speedup": formatting.speedup(r.best_speedup),
            "device": r.device,
            "LLM cost": formatting.usd(tallies[r.id].llm_cost_usd) if r.id in tallies else "",
            "age": formatting.age(r.created_at),
            "failures": failures(tallies.get(r.id)),
        }
        for r in runs
    ]
    picked = st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="runs_table",
        column_config={
            "run": st.column_config.NumberColumn("run", format="%d", width="small"),
            "progress": st.column_config.ProgressColumn(
                "progress", min_value=0.0, max_value=1.0, format="percent"
            ),
        },
    )
    chosen = picked.selection.rows if picked is not None else []
    if chosen:
        navigation.open_run(runs[chosen[0]].id)


def cancel_buttons(ctx: PageContext, runs: list[RunSummary]) -> None:
    live = [r for r in runs if r.status in LIVE]
    if not live:
        return
    st.subheader("Queued and running")
    api = ctx.api()
    for r in live:
        left, middle, right = st.columns([3, 2, 1], vertical_alignment="center")
        left.markdown(f"**run {r.id}** · {r.problem_name} on `{r.device}`")
        middle.progress(
            min(r.evaluated / r.budget, 1.0) if r.budget else 0.0, text=f"{r.evaluated} / {r.budget}"
        )
        if right.button("Cancel", key=f"cancel-{r.id}", disabled=api is None):
            assert api is not None
            result = api.cancel(r.id)
            (st.success if result.ok else st.error)(result.message)


def start_form(ctx: PageContext) -> None:
    st.subheader("Start a run")
    api = ctx.api()
    if api is None:
        st.info("This dashboard was started without an API, so it cannot start runs. "
                "Queue one with `crucible optimize softmax --queue`.")  # fmt: skip
        return
    try:
        problems = api.problems()
    except ApiError as exc:  # the API is down or refuses the token: say so, keep the page
        st.warning(f"Cannot start runs yet: {exc}.")
        return
    with st.form("start_run", clear_on_submit=False):
        left, middle, right, last = st.columns(4)
        problem = left.selectbox(
            "Problem", problems, index=problems.index("softmax") if "softmax" in problems else 0
        )
        device = middle.text_input("Device", value=ctx.device or "cpu", help="cpu, cuda, cuda:N or cuda:all")
        budget = right.number_input("Budget (evaluations)", min_value=1, max_value=100_000, value=24, step=1)
        proposer = last.selectbox(
            "Proposer", PROPOSERS, help="auto: the LLM when one is configured, else offline"
        )
        if st.form_submit_button("Queue run", type="primary"):
            result = api.start(RunRequest(str(problem), int(budget), device.strip(), str(proposer)))
            (st.success if result.ok else st.error)(result.message)


def live_list(ctx: PageContext) -> None:
    runs, total = ctx.store.runs_page(RunFilter(device=ctx.device), limit=PAGE_SIZE)
    if not runs:
        st.info("No runs yet. Start one with the form below, or from a shell: "
                "`crucible optimize softmax --queue` and `crucible worker`.")  # fmt: skip
        return
    tallies = ctx.store.run_tallies([r.id for r in runs])
    st.caption(
        f"{total} run(s){f' on {ctx.device}' if ctx.device else ''}; newest first. Pick a row to open it."
    )
    runs_table(ctx, runs, tallies)
    cancel_buttons(ctx, runs)


def render() -> None:
    ctx = current()
    st.title("Runs")
    refresh = ctx.config.refresh_s
    has_live = any(
        r.status in LIVE for r in ctx.store.runs_page(RunFilter(device=ctx.device), limit=PAGE_SIZE)[0]
    )
    st.fragment(run_every=refresh if has_live else None)(live_list)(ctx)
    start_form(ctx)


render()
