"""The candidate page's chart: how close a kernel came to the device's peak, per shape.

A speedup says how much faster than the reference a kernel is, not how much faster it could
still get; the share of the device's datasheet peak on the kernel's binding roof says that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go

from dashboard.figures import FRONT_COLOR, STATUS_COLORS, empty_figure, styled
from evaluator.types import ShapeMetrics

NO_ROOFLINE = "no bandwidth or FLOP/s measured (CPU runs have no roofline)"


def roofline_figure(shapes: Sequence[ShapeMetrics], *, device: str) -> go.Figure:
    """Per shape, the share of the device's datasheet peak the kernel reached on its binding roof.

    A speedup says how much faster than the reference, not how much faster it could still get;
    this does. Above 100 % the timing or the declared work is wrong, so those bars are flagged."""
    title = f"Share of the device's peak per shape · {device}"
    measured = [s for s in shapes if s.peak_fraction is not None and math.isfinite(s.peak_fraction)]
    if not measured:
        return empty_figure(title, NO_ROOFLINE)
    percents = [100 * (s.peak_fraction or 0.0) for s in measured]
    achieved = [_achieved_text(s) for s in measured]
    fig = go.Figure(
        go.Bar(
            x=[s.shape for s in measured],
            y=percents,
            text=achieved,
            textposition="outside",
            cliponaxis=False,
            marker_color=[FRONT_COLOR if p <= 100 else STATUS_COLORS["runtime_error"] for p in percents],
            customdata=[_median_text(s.median_us) for s in measured],
            hovertemplate="%{x}: %{y:.1f} % of peak<br>%{text} · %{customdata}<extra></extra>",
            name="share of peak",
        )
    )
    fig.add_hline(
        y=100.0,
        line_dash="dash",
        line_color="#888888",
        annotation_text="device peak",
        annotation_position="top left",
    )
    fig.update_xaxes(title_text="shape", type="category")
    fig.update_yaxes(title_text="share of the device's peak (%)", range=[0, max(110.0, 1.15 * max(percents))])
    return styled(fig, title)


def _achieved_text(s: ShapeMetrics) -> str:
    parts = []
    if s.achieved_gbps is not None:
        parts.append(f"{s.achieved_gbps:,.0f} GB/s")
    if s.achieved_tflops is not None:
        parts.append(f"{s.achieved_tflops:.3g} TFLOP/s")
    return " · ".join(parts) or "—"


def _median_text(median_us: float | None) -> str:
    return "latency —" if median_us is None else f"latency {median_us:.4g} µs"
