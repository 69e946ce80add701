"""One candidate: its verdict and reason, per-shape metrics, the profiler's line, its source and
the diff against its parent, the prompt and answer that wrote it, and its exported kernel."""

from __future__ import annotations

import difflib
import json

import streamlit as st

from dashboard import figures_candidate, formatting, navigation
from dashboard.context import PageContext, current
from store.errors import CandidateNotFound
from store.records import CandidateRecord


def verdict(candidate: CandidateRecord) -> None:
    result = candidate.result
    if result is None:
        st.info("Pending: this candidate has no verdict yet.")
        return
    show = st.success if result.ok else st.error
    reason = "" if result.reason in ("", result.status.value) else f": {result.reason}"
    show(f"**{result.status.value}** at stage {result.stage.value}{reason}")
    cols = st.columns(4)
    cols[0].metric(
        "Speedup",
        formatting.speedup(result.speedup),
        help=None
        if result.speedup_vs_compiled is None
        else f"{formatting.speedup(result.speedup_vs_compiled)} against torch.compile of the reference",
    )
    cols[1].metric(
        "Latency", formatting.micros(result.latency_us), help="geometric mean of per-shape medians"
    )
    cols[2].metric("Max abs error", formatting.error(result.max_error))
    cols[3].metric("Peak memory", formatting.mib(result.peak_mem_bytes))
    if result.interpreted:
        st.caption("Interpreted (Triton on the CPU): checked for correctness, its timings rank nothing.")
    if result.suspect:
        st.warning(
            f"Flagged as implausible and not confirmed: {result.verification or 'awaiting re-verification'}"
        )
    if result.profile is not None and result.profile.summary:
        st.markdown(f"**Profiler:** `{result.profile.summary}`")
    if any(s.peak_fraction is not None for s in result.shapes):
        device = result.device.key if result.device else ""
        st.plotly_chart(figures_candidate.roofline_figure(result.shapes, device=device), width="stretch")
    if result.shapes:
        st.markdown("**Per shape**")
        st.dataframe(
            [
                {
                    "shape": s.shape,
                    "median": formatting.micros(s.median_us),
                    "IQR": formatting.micros(s.iqr_us),
                    "reference": formatting.micros(s.ref_median_us),
                    "speedup": formatting.speedup(s.speedup),
                    "torch.compile": formatting.micros(s.compiled_median_us),
                    "vs compile": formatting.speedup(s.speedup_vs_compiled),
                    "max abs error": formatting.error(s.max_abs_err),
                    "peak memory": formatting.mib(s.peak_mem_bytes),
                    "GB/s": "—" if s.achieved_gbps is None else f"{s.achieved_gbps:.0f}",
                    "TFLOP/s": "—" if s.achieved_tflops is None else f"{s.achieved_tflops:.1f}",
                    "of peak": "—" if s.peak_fraction is None else f"{s.peak_fraction:.0%}",
                    "samples": s.samples,
                }
                for s in result.shapes
            ],
            hide_index=True,
            width="stretch",
        )


def source(ctx: PageContext, candidate: CandidateRecord) -> None:
    config = candidate.config.as_dict()
    if config:
        st.markdown("**CONFIG** " + " ".join(f"`{k}={v}`" for k, v in config.items()))
    code, diff = st.tabs(["Source", "Diff against parent"])
    with code:
        st.code(candidate.source, language="python", line_numbers=True)
    with diff:
        if candidate.parent_id is None:
            st.caption("No parent: this candidate was written from scratch or by a variant family.")
            return
        parent = ctx.store.get_candidate(candidate.parent_id)
        if st.button(f"Open parent c{parent.id}"):
            navigation.open_candidate(parent.id)
        lines = difflib.unified_diff(
            parent.source.splitlines(keepends=True),
            candidate.source.splitlines(keepends=True),
            fromfile=f"c{parent.id}",
            tofile=f"c{candidate.id}",
        )
        st.code("".join(lines) or "(the same source; only the config differs)", language="diff")


def provenance(ctx: PageContext, candidate: CandidateRecord) -> None:
    call = ctx.store.llm_call_that_wrote(candidate.run_id, candidate.hash)
    if call is None:
        st.caption(f"Written by the {candidate.origin.value} proposer, not by an LLM call.")
        return
    st.markdown(
        f"**{call.model}** · {call.prompt_tokens} prompt + {call.completion_tokens} completion tokens · "
        f"{formatting.usd(call.cost_usd)} · {call.latency_s:.1f} s"
    )
    try:
        messages = json.loads(call.prompt)
        prompt = "\n\n".join(f"[{m.get('role', '?')}]\n{m.get('content', '')}" for m in messages)
    except (ValueError, AttributeError, TypeError):
        prompt = call.prompt
    with st.expander("Prompt"):
        st.code(prompt, language="markdown")
    with st.expander("Response", expanded=True):
        st.code(call.response, language="markdown")


def export(ctx: PageContext, candidate: CandidateRecord) -> None:
    api = ctx.api()
    if api is None:
        st.caption(f"Export from a shell: `crucible export c{candidate.id} --out exported/c{candidate.id}`")
        return
    if st.button("Prepare the exported kernel"):
        try:
            data = api.export_zip(candidate.id)
        except Exception as exc:  # the API refused (token) or is down: say which
            st.error(f"The API could not export c{candidate.id}: {exc}")
            return
        st.download_button(
            "Download the kernel (zip)",
            data,
            file_name=f"crucible-c{candidate.id}.zip",
            mime="application/zip",
        )


def render() -> None:
    ctx = current()
    candidate_id = navigation.id_param()
    if candidate_id is None:
        st.title("Candidate")
        st.info("Open a candidate from a run's charts or leaderboard, or give its id.")
        typed = st.number_input("Candidate id", min_value=1, step=1, value=None)
        if typed is not None and st.button("Open"):
            navigation.open_candidate(int(typed))
        return
    try:
        candidate = ctx.store.get_candidate(candidate_id)
    except CandidateNotFound:
        st.error(f"There is no candidate {candidate_id}.")
        return
    run = ctx.store.get_run(candidate.run_id)
    st.title(f"Candidate c{candidate.id} · {candidate.family}")
    st.caption(f"run {run.id} ({run.problem_name} on `{run.device}`) · {candidate.origin.value} · "
               f"{candidate.language.value} · hash {candidate.hash[:12]}")  # fmt: skip
    if st.button(f"Back to run {run.id}"):
        navigation.open_run(run.id)
    verdict(candidate)
    source(ctx, candidate)
    st.subheader("Who wrote it")
    provenance(ctx, candidate)
    st.subheader("Export")
    export(ctx, candidate)


render()
