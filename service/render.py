"""Rich tables for the CLI, one function per thing shown, and the one way ``--json`` prints a document."""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel
from rich.markup import escape
from rich.table import Table

from evaluator.types import EvalResult, Status
from kernels.problem import Problem
from kernels.provenance import CallRecord
from store.records import CandidateRecord, RunSummary

STATUS_STYLE = {
    Status.OK: "green",
    Status.WRONG_OUTPUT: "yellow",
    Status.REJECTED: "red",
    Status.TIMEOUT: "magenta",
}


# Short names for ``TimingStats.method``.
TIMERS = {"cuda_events_l2_flush": "events", "cuda_graph_l2_flush": "graph", "cpu_perf_counter": "cpu"}


def emit_json(document: BaseModel) -> None:
    """Print one document (a model from ``service.schemas``) on stdout, and nothing else there."""
    sys.stdout.write(json.dumps(document.model_dump(mode="json"), indent=2) + "\n")


def fmt(value: float | None, spec: str = ".4g", suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def speedup_text(result: EvalResult | None, against_compile: bool = True) -> str:
    """The speedup over the eager reference and, where it was timed, over torch.compile of it."""
    if result is None:
        return "pending"
    if result.ok and result.interpreted:
        return "interpreted"
    text = fmt(result.speedup, ".2f", "x")
    if against_compile and result.speedup_vs_compiled is not None:
        text += f" ({result.speedup_vs_compiled:.2f}x vs torch.compile)"
    return text


def status_text(result: EvalResult | None) -> str:
    if result is None:
        return "[dim]pending[/]"
    style = STATUS_STYLE.get(result.status, "red")
    return f"[{style}]{result.status.value}[/]"


def duration_text(us: float | None) -> str:
    """A time with its unit, three significant figures: ``8.12 µs``, ``243 µs``, ``1.91 ms``, ``2.4 s``."""
    if us is None:
        return "-"
    if abs(us) < 1e3:
        return f"{us:.3g} µs"
    if abs(us) < 1e6:
        return f"{us / 1e3:.3g} ms"
    return f"{us / 1e6:.3g} s"


def bytes_text(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


def _figure_table(title: str, columns: tuple[str, ...]) -> Table:
    """Figures never wrap or get cut; only the shape's name may fold."""
    table = Table(title=title, title_justify="left")
    table.add_column(columns[0], overflow="fold")
    for column in columns[1:]:
        table.add_column(column, justify="right", no_wrap=True)
    return table


def shapes_table(result: EvalResult) -> Table:
    """The figures a reader needs first, whole at 100 columns: time, spread, reference, speedup, error."""
    compiled = any(s.compiled_median_us is not None for s in result.shapes)
    columns: tuple[str, ...] = ("shape", "median", "IQR", "reference", "speedup")
    columns += ("torch.compile", "vs compile") if compiled else ()
    table = _figure_table("Per-shape metrics", (*columns, "max abs err"))
    for s in result.shapes:
        speed = "interpreted" if s.interpreted else fmt(s.speedup, ".2f", "x")
        against = (duration_text(s.compiled_median_us), fmt(s.speedup_vs_compiled, ".2f", "x"))
        table.add_row(
            escape(s.shape),
            duration_text(s.median_us),
            duration_text(s.iqr_us),
            duration_text(s.ref_median_us),
            speed,
            *(against if compiled else ()),
            fmt(s.max_abs_err, ".2e"),
        )
    return table


def shape_details_table(result: EvalResult) -> Table:
    """The secondary figures, for ``--verbose``: how each shape was timed and what it used."""
    table = _figure_table(
        "Per-shape details", ("shape", "samples", "timed by", "peak mem", "GB/s", "TFLOP/s", "cores")
    )
    for s in result.shapes:
        table.add_row(
            escape(s.shape),
            str(s.samples),
            TIMERS.get(s.timing_method or "", s.timing_method or "-"),
            bytes_text(s.peak_mem_bytes),
            fmt(s.achieved_gbps, ".1f"),
            fmt(s.achieved_tflops, ".3g"),
            fmt(s.cpu_cores, ".2f"),
        )
    return table


def problems_table(problems: list[Problem], family_counts: dict[str, int]) -> Table:
    table = Table(title="Built-in problems", title_justify="left")
    for column in ("name", "cpu shapes", "cuda shapes", "families", "roofline"):
        table.add_column(column)
    for p in problems:
        cpu = ", ".join(s.name for s in p.shapes if s.runs_on("cpu"))
        cuda = ", ".join(s.name for s in p.shapes if s.runs_on("cuda"))
        roof = "yes" if any(s.flops or s.bytes_moved for s in p.shapes) else "no"
        table.add_row(p.name, cpu or "-", cuda or "-", str(family_counts.get(p.name, 0)), roof)
    return table


def runs_table(runs: list[RunSummary]) -> Table:
    table = Table(title="Runs", title_justify="left")
    for column in (
        "run",
        "problem",
        "status",
        "device",
        "proposer",
        "evaluated",
        "ok",
        "best speedup",
        "created",
    ):
        table.add_column(column)
    for r in runs:
        table.add_row(
            str(r.id),
            r.problem_name,
            r.status.value,
            r.device,
            r.proposer,
            f"{r.evaluated}/{r.budget}",
            str(r.ok),
            fmt(r.best_speedup, ".2f", "x"),
            r.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


def candidates_table(records: list[CandidateRecord], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    # One cell per candidate's identity (family, language, config on its own line) and short
    # figures that never wrap: the table stays readable in an 80-column terminal or a log.
    table.add_column("id", no_wrap=True)
    table.add_column("candidate", overflow="fold", min_width=16, ratio=2)
    table.add_column("status", no_wrap=True)
    for column in ("speedup", "time", "max err"):
        table.add_column(column, justify="right", min_width=7, no_wrap=True)
    table.add_column("reason", overflow="fold", min_width=8, ratio=1)
    for c in records:
        r = c.result
        table.add_row(
            f"c{c.id}",
            f"{escape(c.family)} ({c.language.value})\n[dim]{escape(str(c.config))}[/dim]",
            status_text(r),
            speedup_text(r, against_compile=False),
            duration_text(r.latency_us if r else None),
            fmt(r.max_error if r else None, ".1e"),
            "" if r is None or r.ok else escape(r.reason[:80]),
        )
    return table


def limits_text(limits: dict[str, Any] | None) -> str:
    """The evaluator limits a run is judged by, as ``name=value`` pairs in a stable order."""
    if limits is None:
        return "not stored with the run (it is judged by the current settings)"
    return " ".join(f"{name}={limits[name]}" for name in sorted(limits))


def calls_table(calls: list[CallRecord], candidate_ids: dict[str, int]) -> Table:
    """A run's LLM calls: model, role (a writer's with its island), tokens, cost, latency, outcome,
    and what each wrote."""
    table = Table(title=f"LLM calls ({len(calls)})", title_justify="left")
    for column in ("#", "model", "role", "tokens", "cost", "latency", "outcome", "wrote"):
        right = column in ("#", "tokens", "cost", "latency")
        table.add_column(column, justify="right" if right else "left", no_wrap=True)
    table.add_column("why", overflow="fold")  # the one column that gives way on a narrow terminal
    for number, call in enumerate(calls, 1):
        wrote = candidate_ids.get(call.candidate_hash or "")
        table.add_row(
            str(number),
            escape(call.model),
            call.role if call.island is None else f"{call.role} i{call.island}",
            f"{call.prompt_tokens + call.completion_tokens:,}{'~' if call.tokens_estimated else ''}",
            "cached" if call.cached else f"${call.cost_usd:.4f}",
            f"{call.latency_s:.1f} s",
            call.outcome,
            f"c{wrote}" if wrote else "-",
            escape(call.reason[:120]),
        )
    return table
