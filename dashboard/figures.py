"""The dashboard's charts: pure builders from the store's view rows to a plotly Figure.

No Streamlit, database or I/O here, so every chart can be tested as plain data and a page only
decides where to put it. Latency and error span decades, so those axes are logarithmic; an error
of exactly 0 (a bit-exact kernel) cannot sit on a log axis, so it is drawn at ``ERROR_FLOOR`` and
its hover says so. Every builder returns a figure for an empty input, with a note instead of data.
The search's own charts (archive, islands, lineage, model preferences) are in ``figures_search``,
built on the helpers shared here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields
from itertools import pairwise
from typing import Literal

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from store.views import ChartPoint, ModelUsage, ProgressPoint, ShapePoint, StatusBucket, StatusCount

ERROR_FLOOR = 1e-12  # where an error below it (0 included) is drawn on a log axis
MIB = 2**20
STATUS_ORDER = (
    "ok",
    "compile_error",
    "runtime_error",
    "wrong_output",
    "rejected",
    "timeout",
    "out_of_memory",
    "crashed",
)
STATUS_COLORS: dict[str, str] = {
    "ok": "#2e9e44",
    "compile_error": "#f28e2b",
    "runtime_error": "#d62728",
    "wrong_output": "#9467bd",
    "rejected": "#e6b422",
    "timeout": "#c2185b",
    "out_of_memory": "#8c3b0c",
    "crashed": "#2b2b2b",
    "pending": "#c7c7c7",
}
OTHER_COLOR = "#9e9e9e"  # a status this module does not know yet
NO_DATA = "no timed candidates yet"
LATENCY_TITLE = "median latency (µs, geometric mean over shapes)"
FRONT_COLOR = "#1f4e9c"
_DOMINATED_COLOR = "#8c8c8c"
CANDIDATE_HOVER = "<b>c%{customdata}</b><br>%{text}<extra></extra>"
# per x axis of the progress chart: its title, and how a hover names the point's x
_PROGRESS_AXES = {
    "evaluated": ("candidates evaluated", "after %{x:,} verdicts"),
    "seconds": ("wall time since the first verdict (s)", "at %{x:.4g} s"),
    "cost_usd": ("LLM spend so far (USD)", "after $%{x:.4f} of LLM calls"),
}


def front_mask(xs: Sequence[float], ys: Sequence[float]) -> list[bool]:
    """Which points no other point beats on both axes (both minimized); of equal points, the first.

    Sorted by (x, y) with a stable sort, a point is on the front exactly when its y is below every
    y before it: those are all the points at least as good on x, ties in input order."""
    if len(xs) != len(ys):
        raise ValueError(f"front_mask needs as many ys as xs, got {len(xs)} and {len(ys)}")
    mask = [False] * len(xs)
    best: float | None = None
    for i in sorted(range(len(xs)), key=lambda i: (xs[i], ys[i])):
        if best is None or ys[i] < best:
            mask[i] = True
            best = ys[i]
    return mask


def pareto_figure(
    points: Sequence[ChartPoint], y: Literal["max_abs_err", "peak_mem_bytes"], *, device: str
) -> go.Figure:
    """Latency against error or memory for the timed candidates, their 2-D front in bold.

    The front is recomputed on the two drawn axes, since the store's front weighs more objectives
    than one chart shows. Each marker's customdata is its candidate id, for a click to open it."""
    memory = y == "peak_mem_bytes"
    label = "peak memory" if memory else "max abs error"
    title = f"Latency vs {label} · {device}"
    placed = [(p, *xy) for p in points if (xy := _coords(p, memory)) is not None]
    if not placed:
        return empty_figure(title, NO_DATA)
    mask = front_mask([x for _, x, _ in placed], [v for _, _, v in placed])
    front = sorted((row for row, on in zip(placed, mask, strict=True) if on), key=lambda row: row[1])
    rest = [row for row, on in zip(placed, mask, strict=True) if not on]
    fig = go.Figure()
    for name, rows in (("dominated", rest), ("front", front)):
        fig.add_trace(
            go.Scatter(
                x=[x for _, x, _ in rows],
                y=[v / MIB if memory else max(v, ERROR_FLOOR) for _, _, v in rows],
                customdata=[p.candidate_id for p, _, _ in rows],
                text=[_point_hover(p, x, v, memory) for p, x, v in rows],
                hovertemplate=CANDIDATE_HOVER,
                name=name,
                **_marks(name == "front"),
            )
        )
    fig.update_xaxes(type="log", title_text=LATENCY_TITLE)
    fig.update_yaxes(type="linear" if memory else "log", title_text="peak memory (MiB)" if memory else label)
    return styled(fig, title)


def shape_fronts_figure(shapes: Sequence[ShapePoint], *, device: str) -> go.Figure:
    """One latency-vs-error panel per shape, each with its own front.

    A kernel that wins at small sizes can lose at large ones; the overall front hides that."""
    title = f"Latency vs max abs error per shape · {device}"
    by_shape: dict[str, list[ShapePoint]] = {}
    for s in shapes:
        if s.max_abs_err is not None and _positive(s.median_us) and math.isfinite(s.max_abs_err):
            by_shape.setdefault(s.shape, []).append(s)
    if not by_shape:
        return empty_figure(title, NO_DATA)
    names = list(by_shape)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    specs: list[list[dict[str, object] | None]] = [
        [{} if r * cols + c < len(names) else None for c in range(cols)] for r in range(rows)
    ]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        specs=specs,
        subplot_titles=names,
        horizontal_spacing=0.07,
        vertical_spacing=90 / (320 * rows),
    )
    for n, shape in enumerate(names):
        points = by_shape[shape]
        mask = front_mask([p.median_us for p in points], [p.max_abs_err or 0.0 for p in points])
        front = sorted((p for p, on in zip(points, mask, strict=True) if on), key=lambda p: p.median_us)
        rest = [p for p, on in zip(points, mask, strict=True) if not on]
        for kind, group in (("dominated", rest), ("front", front)):
            trace = go.Scatter(
                x=[p.median_us for p in group],
                y=[max(p.max_abs_err or 0.0, ERROR_FLOOR) for p in group],
                customdata=[p.candidate_id for p in group],
                text=[_shape_hover(p) for p in group],
                hovertemplate=CANDIDATE_HOVER,
                name=f"{kind} · {shape}",
                showlegend=False,
                **_marks(kind == "front"),
            )
            fig.add_trace(trace, row=n // cols + 1, col=n % cols + 1)
    fig.update_xaxes(type="log", title_text="median latency (µs)", title_font_size=12)
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="max abs error", title_font_size=12, col=1)
    return styled(fig, f"{title} · bold: the front on that shape", height=320 * rows + 60)


def progress_figure(
    progress: Sequence[ProgressPoint],
    x: Literal["evaluated", "seconds", "cost_usd"] = "evaluated",
    *,
    device: str,
) -> go.Figure:
    """The best speedup so far as a staircase, against verdicts, wall time or cumulative LLM spend.

    Spend is the axis that says whether more money still buys speed; it is only offered once the
    progress points carry it, which is read off the dataclass rather than assumed."""
    carried = {f.name for f in fields(ProgressPoint)}
    if x not in _PROGRESS_AXES or x not in carried:
        raise ValueError(
            f"progress points carry no {x!r} (they have {', '.join(sorted(carried))}), "
            "so the progress chart cannot use it as its x axis"
        )
    title = f"Best speedup so far · {device}"
    if not progress:
        return empty_figure(title, NO_DATA)
    fig = go.Figure(
        go.Scatter(
            x=[getattr(p, x) for p in progress],
            y=[p.best_speedup for p in progress],
            mode="lines+markers",
            line_shape="hv",
            line={"color": FRONT_COLOR, "width": 2.5},
            marker={"size": 7, "color": FRONT_COLOR},
            name="best speedup",
            hovertemplate=f"%{{y:.3g}}× {_PROGRESS_AXES[x][1]}<extra></extra>",
        )
    )
    fig.add_hline(
        y=1.0,
        line_dash="dash",
        line_color="#888888",
        annotation_text="reference",
        annotation_position="bottom right",
    )
    fig.update_xaxes(title_text=_PROGRESS_AXES[x][0])
    fig.update_yaxes(title_text="best speedup over the reference (×)", rangemode="tozero")
    return styled(fig, title)


def status_timeline_figure(buckets: Sequence[StatusBucket], *, device: str) -> go.Figure:
    """Verdicts per status in each slice of wall time, stacked: when the run went wrong, and how."""
    title = f"Verdicts over time · {device}"
    if not buckets:
        return empty_figure(title, "no verdicts yet")
    starts = sorted({b.bucket_start_s for b in buckets})
    width = min(b - a for a, b in pairwise(starts)) if len(starts) > 1 else None
    fig = go.Figure()
    for status in in_status_order({b.status for b in buckets}):
        mine = [b for b in buckets if b.status == status]
        fig.add_trace(
            go.Bar(
                x=[b.bucket_start_s for b in mine],
                y=[b.count for b in mine],
                name=status,
                marker_color=status_color(status),
                offset=0 if width else None,  # a bar spans its slice, from its start
                width=width,
                hovertemplate=f"{status}: %{{y}} from %{{x:.4g}} s<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title_text="wall time (s)")
    fig.update_yaxes(title_text="verdicts")
    return styled(fig, title)


def llm_usage_figure(models: Sequence[ModelUsage]) -> go.Figure:
    """Tokens per model as grouped bars and their cost as markers on a second axis."""
    title = "LLM usage by model"
    if not models:
        return empty_figure(title, "no LLM calls yet")
    names = [m.model for m in models]
    calls = [m.calls for m in models]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for name, values, color in (
        ("prompt tokens", [m.prompt_tokens for m in models], "#7aa6d8"),
        ("completion tokens", [m.completion_tokens for m in models], "#1f4e9c"),
    ):
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                name=name,
                marker_color=color,
                customdata=calls,
                hovertemplate=f"%{{x}}: %{{y:,}} {name} over %{{customdata}} calls<extra></extra>",
            ),
            secondary_y=False,
        )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[m.cost_usd for m in models],
            name="cost (USD)",
            mode="markers",
            marker={"size": 13, "symbol": "diamond", "color": "#d62728"},
            hovertemplate="%{x}: $%{y:.4f}<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="tokens", secondary_y=False)
    fig.update_yaxes(title_text="cost (USD)", rangemode="tozero", showgrid=False, secondary_y=True)
    return styled(fig, title).update_layout(margin_r=72)


def status_figure(counts: Sequence[StatusCount]) -> go.Figure:
    """Candidates per status as horizontal bars, in the timeline's order and colours."""
    title = "Candidates by status"
    if not counts:
        return empty_figure(title, "no candidates yet")
    by_status = {c.status: c.count for c in counts}
    order = in_status_order(set(by_status))
    fig = go.Figure(
        go.Bar(
            x=[by_status[s] for s in order],
            y=order,
            orientation="h",
            marker_color=[status_color(s) for s in order],
            text=[by_status[s] for s in order],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x}<extra></extra>",
            name="candidates",
        )
    )
    fig.update_xaxes(title_text="candidates", rangemode="tozero")
    fig.update_yaxes(autorange="reversed")  # ok on top
    return styled(fig, title, height=max(240, 60 + 36 * len(order)))


def status_color(status: str) -> str:
    """The fixed colour of a status, so every chart paints it alike."""
    return STATUS_COLORS.get(status, OTHER_COLOR)


def in_status_order(statuses: set[str]) -> list[str]:
    """The known statuses in their fixed order, then any new ones alphabetically."""
    known = [s for s in STATUS_ORDER if s in statuses]
    return known + sorted(statuses - set(STATUS_ORDER))


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _coords(p: ChartPoint, memory: bool) -> tuple[float, float] | None:
    """The point's (latency, error or bytes) if a chart may place it: timed, both known and finite."""
    value = p.peak_mem_bytes if memory else p.max_abs_err
    if not p.timed or p.latency_us is None or value is None:
        return None
    if not (_positive(p.latency_us) and math.isfinite(value)):
        return None
    return p.latency_us, float(value)


def _marks(front: bool) -> dict[str, object]:
    """Front points bold and joined as a staircase; the rest small and faint."""
    if front:
        return {
            "mode": "lines+markers",
            "line_shape": "hv",
            "line": {"color": FRONT_COLOR, "width": 2},
            "marker": {"size": 10, "color": FRONT_COLOR, "line": {"color": "white", "width": 1}},
        }
    return {"mode": "markers", "opacity": 0.35, "marker": {"size": 6, "color": _DOMINATED_COLOR}}


def _error_text(err: float) -> str:
    return f"{err:.3g}" if err >= ERROR_FLOOR else f"{err:.3g} (drawn at {ERROR_FLOOR:g})"


def _speedup_text(speedup: float | None) -> str:
    return "—" if speedup is None else f"{speedup:.3g}×"


def _point_hover(p: ChartPoint, latency: float, value: float, memory: bool) -> str:
    shown = f"peak memory {value / MIB:,.1f} MiB" if memory else f"max abs error {_error_text(value)}"
    return (
        f"{p.family} · {p.origin}<br>latency {latency:.4g} µs<br>{shown}"
        f"<br>speedup {_speedup_text(p.speedup)}"
    )


def _shape_hover(p: ShapePoint) -> str:
    err = _error_text(p.max_abs_err or 0.0)
    speedup = _speedup_text(p.speedup)
    return f"{p.shape}<br>latency {p.median_us:.4g} µs<br>max abs error {err}<br>speedup {speedup}"


def empty_figure(title: str, message: str) -> go.Figure:
    """A styled figure with a note in its middle, so a page never has to special-case no data."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 16}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return styled(fig, title)


def styled(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    """The look every chart shares: white template, left title, legend along the top."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0.01, "xanchor": "left"},
        font={"size": 13},
        height=height,
        margin={"l": 64, "r": 24, "t": 84, "b": 56},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        hoverlabel={"font_size": 13},
    )
    return fig
