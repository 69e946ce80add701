"""The dashboard's figure builders: what they place, where, and in which colours, as plain data."""

from __future__ import annotations

import json
import random
from typing import Literal, TypeVar

import plotly.graph_objects as go
import pytest

from dashboard.figures import (
    ERROR_FLOOR,
    LATENCY_TITLE,
    MIB,
    STATUS_COLORS,
    STATUS_ORDER,
    front_mask,
    llm_usage_figure,
    pareto_figure,
    progress_figure,
    shape_fronts_figure,
    status_figure,
    status_timeline_figure,
)
from store.views import ChartPoint, ModelUsage, ProgressPoint, ShapePoint, StatusBucket, StatusCount

T = TypeVar("T")


def brute_front(xs: list[float], ys: list[float]) -> list[bool]:
    """O(n^2) reference: dominated by no other point, and no equal point comes before it."""
    n = len(xs)
    return [
        not any(
            (xs[j] <= xs[i] and ys[j] <= ys[i] and (xs[j] < xs[i] or ys[j] < ys[i]))
            or (j < i and xs[j] == xs[i] and ys[j] == ys[i])
            for j in range(n)
            if j != i
        )
        for i in range(n)
    ]


def point(
    cid: int,
    latency: float | None = 10.0,
    err: float | None = 1e-3,
    mem: int | None = MIB,
    *,
    timed: bool = True,
    speedup: float | None = 1.5,
) -> ChartPoint:
    return ChartPoint(cid, "tiled", "mutation", "ok", latency, err, mem, speedup, False, timed)


def trace(fig: go.Figure, name: str) -> go.Scatter:
    (found,) = [t for t in fig.data if t.name == name]
    return found


def annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


# front_mask


@pytest.mark.parametrize("seed", range(25))
def test_front_mask_matches_brute_force_with_ties(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    xs = [float(rng.randint(0, 8)) for _ in range(n)]  # few values: many ties and exact duplicates
    ys = [float(rng.randint(0, 8)) for _ in range(n)]
    assert front_mask(xs, ys) == brute_front(xs, ys)


def test_front_mask_keeps_only_the_first_of_equal_points() -> None:
    assert front_mask([1.0, 1.0, 1.0], [2.0, 2.0, 2.0]) == [True, False, False]
    assert front_mask([2.0, 1.0, 1.0], [1.0, 2.0, 1.0]) == [False, False, True]


def test_front_mask_on_100k_points() -> None:
    rng = random.Random(7)
    xs = [rng.lognormvariate(0, 1) for _ in range(100_000)]
    ys = [rng.lognormvariate(0, 1) for _ in range(100_000)]
    mask = front_mask(xs, ys)
    assert len(mask) == 100_000 and 0 < sum(mask) < 200
    assert front_mask(xs[:800], ys[:800]) == brute_front(xs[:800], ys[:800])


def test_front_mask_empty_and_mismatched() -> None:
    assert front_mask([], []) == []
    with pytest.raises(ValueError):
        front_mask([1.0], [])


# pareto_figure


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("y", ["max_abs_err", "peak_mem_bytes"])
def test_pareto_front_trace_holds_exactly_the_non_dominated_ids(
    seed: int, y: Literal["max_abs_err", "peak_mem_bytes"]
) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 80)
    latencies = [float(rng.randint(1, 9)) for _ in range(n)]  # few values: ties and duplicates
    errors = [rng.randint(0, 6) * 1e-4 for _ in range(n)]
    memories = [rng.randint(1, 6) * MIB for _ in range(n)]
    points = [point(i + 1, latencies[i], errors[i], memories[i]) for i in range(n)]
    mask = brute_front(latencies, errors if y == "max_abs_err" else [float(m) for m in memories])
    fig = pareto_figure(points, y, device="H200")
    front, dominated = trace(fig, "front"), trace(fig, "dominated")
    assert sorted(front.customdata) == [p.candidate_id for p, on in zip(points, mask, strict=True) if on]
    assert sorted(dominated.customdata) == [
        p.candidate_id for p, on in zip(points, mask, strict=True) if not on
    ]
    assert list(front.x) == sorted(front.x)  # the staircase runs left to right
    assert front.line.shape == "hv" and dominated.opacity < 1
    assert front.marker.size > dominated.marker.size


def test_pareto_draws_only_timed_points_with_both_values() -> None:
    points = [
        point(1),
        point(2, timed=False),
        point(3, latency=None),
        point(4, err=None),
        point(5, mem=None),
        point(6, latency=5.0, err=2e-3),
    ]
    err = pareto_figure(points, "max_abs_err", device="H200")
    assert sorted([*trace(err, "front").customdata, *trace(err, "dominated").customdata]) == [1, 5, 6]
    mem = pareto_figure(points, "peak_mem_bytes", device="H200")
    assert sorted([*trace(mem, "front").customdata, *trace(mem, "dominated").customdata]) == [1, 4, 6]


def test_pareto_memory_is_in_mib_on_a_linear_axis() -> None:
    fig = pareto_figure(
        [point(1, 5.0, mem=3 * MIB), point(2, 10.0, mem=MIB // 2)], "peak_mem_bytes", device="d"
    )
    ys = dict(zip(trace(fig, "front").customdata, trace(fig, "front").y, strict=True))
    assert ys == {1: 3.0, 2: 0.5}
    assert fig.layout.yaxis.type == "linear" and fig.layout.yaxis.title.text == "peak memory (MiB)"
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.title.text == LATENCY_TITLE


def test_pareto_zero_error_sits_on_the_floor_and_says_so() -> None:
    fig = pareto_figure([point(1, 10.0, err=0.0), point(2, 5.0, err=1e-2)], "max_abs_err", device="d")
    front = trace(fig, "front")
    ys = dict(zip(front.customdata, front.y, strict=True))
    assert ys == {1: ERROR_FLOOR, 2: 1e-2}
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.title.text == "max abs error"
    (hover,) = [text for cid, text in zip(front.customdata, front.text, strict=True) if cid == 1]
    assert "drawn at" in hover


def test_pareto_hover_names_the_candidate_and_title_the_device() -> None:
    fig = pareto_figure([point(42, speedup=None)], "max_abs_err", device="NVIDIA H200")
    front = trace(fig, "front")
    assert "c%{customdata}" in front.hovertemplate and list(front.customdata) == [42]
    assert all(word in front.text[0] for word in ("tiled", "mutation", "µs", "speedup"))
    assert "NVIDIA H200" in fig.layout.title.text


# shape_fronts_figure


def test_shape_fronts_one_subplot_per_shape_each_with_its_own_front() -> None:
    rng = random.Random(3)
    names = ["1024x1024", "2048x2048", "4096x4096", "8192x8192", "16x16"]
    shapes = [
        ShapePoint(cid, name, float(rng.randint(1, 9)), None, float(rng.randint(0, 5)) * 1e-5)
        for cid in range(1, 30)
        for name in names
    ]
    fig = shape_fronts_figure(shapes, device="H200")
    assert len({t.xaxis for t in fig.data}) == len(names)
    assert [a.text for a in fig.layout.annotations] == names  # the subplot titles
    assert fig.layout.height >= 2 * 320  # 5 shapes wrap into 2 rows of 3
    for name in names:
        mine = [s for s in shapes if s.shape == name]
        mask = brute_front([s.median_us for s in mine], [s.max_abs_err or 0.0 for s in mine])
        front = trace(fig, f"front · {name}")
        assert sorted(front.customdata) == [s.candidate_id for s, on in zip(mine, mask, strict=True) if on]
        assert front.xaxis == trace(fig, f"dominated · {name}").xaxis
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_shape_fronts_skip_points_without_an_error() -> None:
    shapes = [
        ShapePoint(1, "a", 3.0, 1.2, None),
        ShapePoint(2, "a", 4.0, 1.0, 0.0),
        ShapePoint(3, "b", 1.0, 1.0, None),
    ]
    fig = shape_fronts_figure(shapes, device="d")
    assert [t.name for t in fig.data] == ["dominated · a", "front · a"]
    assert list(trace(fig, "front · a").customdata) == [2]
    assert list(trace(fig, "front · a").y) == [ERROR_FLOOR]


# progress_figure


def test_progress_is_a_staircase_of_the_input() -> None:
    progress = [ProgressPoint(1, 0.0, 0.4), ProgressPoint(7, 12.5, 1.3), ProgressPoint(40, 90.0, 2.75)]
    fig = progress_figure(progress, device="H200")
    (line,) = fig.data
    assert list(line.y) == [0.4, 1.3, 2.75] and list(line.x) == [1, 7, 40]
    assert line.line.shape == "hv"
    assert fig.layout.yaxis.title.text == "best speedup over the reference (×)"
    (ref,) = fig.layout.shapes
    assert ref.y0 == ref.y1 == 1.0 and ref.line.dash == "dash"
    assert "reference" in annotation_texts(fig)
    seconds = progress_figure(progress, "seconds", device="H200")
    assert list(seconds.data[0].x) == [0.0, 12.5, 90.0]
    assert seconds.layout.xaxis.title.text == "wall time since the first verdict (s)"


def test_progress_by_cost_needs_a_cost_field() -> None:
    if hasattr(ProgressPoint, "cost_usd"):
        pytest.skip("progress points carry a cost now")
    with pytest.raises(ValueError, match="cost_usd"):
        progress_figure([ProgressPoint(1, 0.0, 1.0)], "cost_usd", device="d")


# status charts


def test_status_timeline_traces_in_fixed_order_and_colours() -> None:
    buckets = [
        StatusBucket(0.0, "zeta", 1),
        StatusBucket(0.0, "crashed", 2),
        StatusBucket(0.0, "ok", 5),
        StatusBucket(2.0, "alpha", 1),
        StatusBucket(2.0, "compile_error", 3),
        StatusBucket(4.0, "ok", 4),
        StatusBucket(4.0, "timeout", 1),
    ]
    fig = status_timeline_figure(buckets, device="H200")
    assert [t.name for t in fig.data] == ["ok", "compile_error", "timeout", "crashed", "alpha", "zeta"]
    for t in fig.data:
        if t.name in STATUS_COLORS:
            assert t.marker.color == STATUS_COLORS[t.name]
    assert fig.layout.barmode == "stack"
    ok = trace(fig, "ok")
    assert list(ok.x) == [0.0, 4.0] and list(ok.y) == [5, 4]
    assert fig.layout.xaxis.title.text == "wall time (s)"


def test_status_colours_cover_the_fixed_order_and_differ() -> None:
    assert set(STATUS_ORDER) <= set(STATUS_COLORS)
    assert len({STATUS_COLORS[s] for s in STATUS_ORDER}) == len(STATUS_ORDER)


def test_status_figure_uses_the_same_order_and_colours() -> None:
    counts = [StatusCount("wrong_output", 9), StatusCount("ok", 3), StatusCount("pending", 2)]
    (bars,) = status_figure(counts).data
    assert list(bars.y) == ["ok", "wrong_output", "pending"] and list(bars.x) == [3, 9, 2]
    assert list(bars.marker.color) == [STATUS_COLORS[s] for s in bars.y]
    assert bars.orientation == "h"


# llm_usage_figure


def test_llm_usage_tokens_on_the_left_cost_on_the_right() -> None:
    models = [ModelUsage("claude-a", 10, 5000, 1200, 0.42), ModelUsage("gpt-b", 3, 900, 300, 0.05)]
    fig = llm_usage_figure(models)
    prompt, completion, cost = (
        trace(fig, "prompt tokens"),
        trace(fig, "completion tokens"),
        trace(fig, "cost (USD)"),
    )
    assert list(prompt.y) == [5000, 900] and list(completion.y) == [1200, 300]
    assert list(cost.y) == [0.42, 0.05] and cost.mode == "markers"
    assert prompt.yaxis == completion.yaxis == "y" and cost.yaxis == "y2"
    assert fig.layout.yaxis2.side == "right" and fig.layout.barmode == "group"


# every figure


def all_figures(empty: bool) -> list[go.Figure]:
    def pick(items: list[T]) -> list[T]:
        return [] if empty else items

    return [
        pareto_figure(pick([point(1), point(2, 3.0, 1.0)]), "max_abs_err", device="H200"),
        pareto_figure(pick([point(1), point(2, 3.0, mem=9 * MIB)]), "peak_mem_bytes", device="H200"),
        shape_fronts_figure(pick([ShapePoint(1, "a", 2.0, 1.0, 1e-4)]), device="H200"),
        progress_figure(pick([ProgressPoint(1, 0.0, 1.2)]), device="H200"),
        status_timeline_figure(pick([StatusBucket(0.0, "ok", 1)]), device="H200"),
        llm_usage_figure(pick([ModelUsage("m", 1, 10, 5, 0.01)])),
        status_figure(pick([StatusCount("ok", 1)])),
    ]


@pytest.mark.parametrize("empty", [False, True])
def test_every_figure_is_valid_plotly_with_the_shared_style(empty: bool) -> None:
    for fig in all_figures(empty):
        assert json.loads(fig.to_json())["layout"]["height"] >= 240
        assert fig.layout.title.xanchor == "left" and fig.layout.font.size >= 13
        assert fig.layout.legend.orientation == "h"
        assert fig.layout.template.layout.paper_bgcolor == "white"  # plotly_white


def test_empty_inputs_give_a_note_instead_of_data() -> None:
    for fig in all_figures(empty=True):
        assert len(fig.data) == 0
        (note,) = fig.layout.annotations
        assert note.text.startswith("no ") and note.text.endswith(" yet")
        assert (note.x, note.y, note.xref, note.yref) == (0.5, 0.5, "paper", "paper")
    untimed = pareto_figure([point(1, timed=False)], "max_abs_err", device="d")
    assert annotation_texts(untimed) == ["no timed candidates yet"]
