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
from dashboard.figures_candidate import NO_ROOFLINE, roofline_figure
from dashboard.figures_search import (
    archive_heatmap,
    islands_figure,
    lineage_figure,
    model_preference_figure,
    tree_layout,
)
from evaluator.types import ShapeMetrics
from store.search_views import ArchiveCell, IslandSummary, LineageNode, ModelPreference
from store.views import (
    ChartPoint,
    ModelUsage,
    ProgressPoint,
    ShapePoint,
    StatusBucket,
    StatusCount,
)

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


def test_progress_against_llm_spend() -> None:
    progress = [ProgressPoint(1, 0.0, 0.9, cost_usd=0.01), ProgressPoint(9, 30.0, 1.7, cost_usd=0.25)]
    fig = progress_figure(progress, "cost_usd", device="H200")
    (line,) = fig.data
    assert list(line.x) == [0.01, 0.25] and list(line.y) == [0.9, 1.7]
    assert fig.layout.xaxis.title.text == "LLM spend so far (USD)"
    assert "$" in line.hovertemplate


def test_progress_rejects_an_unknown_axis() -> None:
    with pytest.raises(ValueError, match="tokens"):
        progress_figure([ProgressPoint(1, 0.0, 1.0)], "tokens", device="d")  # type: ignore[arg-type]


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


# archive_heatmap


def test_archive_heatmap_grid_matches_the_cells() -> None:
    cells = [
        ArchiveCell("3+", "b", 4, 2.5, 11),
        ArchiveCell("10", "a", 2, 1.1, 12),
        ArchiveCell("0", "a", 7, None, None),  # candidates, none timed
        ArchiveCell("2", "b", 1, 0.8, 13),
        ArchiveCell("1", "a", 3, 1.9, 14),
    ]
    fig = archive_heatmap(cells, x_name="loop_depth", y_name="memory_kind", device="H200")
    (heat,) = fig.data
    assert list(heat.x) == ["0", "1", "2", "3+", "10"] and list(heat.y) == ["a", "b"]
    at = {(c.x, c.y): c for c in cells}
    for i, y in enumerate(heat.y):
        for j, x in enumerate(heat.x):
            cell = at.get((x, y))
            assert heat.z[i][j] == (None if cell is None else cell.best_speedup)
            assert heat.customdata[i][j] == (None if cell is None else cell.best_id)
    assert heat.z[0][0] is None  # never 0: no timed candidate is not a slow one
    assert "7 candidates" in heat.hovertext[0][0] and "none timed" in heat.hovertext[0][0]
    assert "c11" in heat.hovertext[1][3] and "2.5" in heat.hovertext[1][3]
    assert fig.layout.xaxis.title.text == "loop depth" and fig.layout.yaxis.title.text == "memory kind"
    assert heat.colorbar.title.text == "best speedup (×)"
    assert fig.layout.xaxis.type == "category"  # "0", "1" stay labels, in this order


def test_archive_heatmap_sorts_names_after_numbers() -> None:
    cells = [ArchiveCell(x, "y", 1, 1.0, i) for i, x in enumerate(["wide", "3+", "narrow", "0.5", "2"])]
    (heat,) = archive_heatmap(cells, x_name="a", y_name="b", device="d").data
    assert list(heat.x) == ["0.5", "2", "3+", "narrow", "wide"]


# islands_figure


def test_islands_counts_on_the_left_best_on_the_right() -> None:
    islands = [IslandSummary(1, 20, 9, None, 3), IslandSummary(0, 40, 30, 2.2, 0)]
    fig = islands_figure(islands, device="H200")
    candidates, ok, best = trace(fig, "candidates"), trace(fig, "ok"), trace(fig, "best speedup")
    assert list(candidates.x) == ["island 0", "island 1"]
    assert list(candidates.y) == [40, 20] and list(ok.y) == [30, 9]
    assert list(best.y) == [2.2, None] and best.mode == "markers"
    assert list(candidates.customdata) == [0, 3] and "migrants" in candidates.hovertemplate
    assert candidates.yaxis == ok.yaxis == "y" and best.yaxis == "y2"
    assert fig.layout.barmode == "group" and fig.layout.yaxis2.side == "right"


# lineage_figure


def lineage_node(
    cid: int, parent: int | None, *, improved: bool = False, status: str | None = "ok"
) -> LineageNode:
    return LineageNode(cid, parent, "tiled", status, 1.0 + cid / 10, 0, improved)


def segments(t: go.Scatter) -> set[tuple[tuple[float, float], tuple[float, float]]]:
    """The (start, end) points of a trace's line segments, split at its None separators."""
    xs, ys = list(t.x), list(t.y)
    assert len(xs) % 3 == 0 and xs[2::3] == [None] * (len(xs) // 3)
    return {((xs[i], ys[i]), (xs[i + 1], ys[i + 1])) for i in range(0, len(xs), 3)}


def node_traces(fig: go.Figure) -> list[go.Scatter]:
    return [t for t in fig.data if t.name not in ("edge", "improved")]


@pytest.mark.parametrize("seed", range(8))
def test_lineage_edges_split_by_improvement_and_nodes_by_status(seed: int) -> None:
    rng = random.Random(seed)
    nodes = [lineage_node(1, None), lineage_node(2, 999)]  # two roots: 999 is not drawn
    for cid in range(3, rng.randint(4, 60)):
        status = rng.choice(["ok", "wrong_output", None])
        nodes.append(lineage_node(cid, rng.randrange(1, cid), improved=rng.random() < 0.3, status=status))
    fig = lineage_figure(nodes, device="H200")
    depth, row, _ = tree_layout([(n.candidate_id, n.parent_id) for n in nodes])
    place = {cid: (depth[cid], row[cid]) for cid in depth}
    expected = {
        flag: {(place[n.parent_id], place[n.candidate_id]) for n in nodes[2:] if n.improved == flag}
        for flag in (False, True)
    }
    assert segments(trace(fig, "edge")) == expected[False]
    assert segments(trace(fig, "improved")) == expected[True]
    assert len(trace(fig, "edge").x) // 3 + len(trace(fig, "improved").x) // 3 == len(nodes) - 2
    drawn = node_traces(fig)
    assert sorted(cid for t in drawn for cid in t.customdata) == [n.candidate_id for n in nodes]
    for t in drawn:
        assert t.marker.color == STATUS_COLORS[t.name]
        for cid, x, y in zip(t.customdata, t.x, t.y, strict=True):
            assert (x, y) == place[cid]
    roots = {cid: (x, y) for t in drawn for cid, x, y in zip(t.customdata, t.x, t.y, strict=True)}
    assert roots[1][0] == roots[2][0] == 0
    assert {t.name for t in drawn} <= {"ok", "wrong_output", "pending"}
    assert fig.layout.xaxis.title.text == "generations from the root"


def test_tree_layout_puts_leaves_in_rows_and_parents_between_children() -> None:
    #        1
    #      /   \
    #     2     3       7 (root: its parent 99 is not here)
    #    / \     \
    #   4   5     6
    depth, row, parent = tree_layout([(1, None), (2, 1), (3, 1), (4, 2), (5, 2), (6, 3), (7, 99)])
    assert depth == {1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 0}
    assert [row[i] for i in (4, 5, 6, 7)] == [0.0, 1.0, 2.0, 3.0]
    assert row[2] == 0.5 and row[3] == 2.0 and row[1] == 1.25
    assert parent == {2: 1, 3: 1, 4: 2, 5: 2, 6: 3}


def test_tree_layout_places_every_id_of_a_cycle_once() -> None:
    depth, row, parent = tree_layout([(1, 2), (2, 1), (3, None)])
    assert set(depth) == set(row) == {1, 2, 3}
    assert depth[3] == 0 and sorted(depth[i] for i in (1, 2)) == [0, 1] and len(parent) == 1


def test_lineage_of_a_deep_chain_builds_without_recursion() -> None:
    n = 5000
    nodes = [lineage_node(1, None)] + [lineage_node(i, i - 1, improved=i % 2 == 0) for i in range(2, n + 1)]
    fig = lineage_figure(nodes, device="H200")
    (ok,) = node_traces(fig)
    assert len(ok.customdata) == n and max(ok.x) == n - 1 and set(ok.y) == {0.0}
    assert len(trace(fig, "improved").x) // 3 == n // 2
    assert len(trace(fig, "edge").x) // 3 == n - 1 - n // 2
    fig.to_json()


# model_preference_figure


def test_model_preference_bars_are_the_shares() -> None:
    prefs = [
        ModelPreference("cheap", 40, 0.2, 0.05, 10.0, 0.25),
        ModelPreference("strong", 10, 1.5, 0.4, 30.0, 0.75),
    ]
    (bars,) = model_preference_figure(prefs).data
    assert bars.orientation == "h"
    assert dict(zip(bars.y, bars.x, strict=True)) == {"strong": 75.0, "cheap": 25.0}
    assert list(bars.y) == ["strong", "cheap"]  # the favourite first, drawn on top
    by_model = dict(zip(bars.y, (list(c) for c in bars.customdata), strict=True))
    assert by_model["cheap"] == [40, 0.2, 0.05, 10.0]
    assert all(word in bars.hovertemplate for word in ("calls", "per call", "per $"))


# roofline_figure


def test_roofline_bars_skip_shapes_without_a_peak_share() -> None:
    shapes = [
        ShapeMetrics("1024", median_us=5.0, achieved_gbps=2400.0, peak_fraction=0.5),
        ShapeMetrics("2048", median_us=9.0),  # no declared work: no roofline
        ShapeMetrics("4096", median_us=30.0, achieved_tflops=41.0, peak_fraction=0.612),
    ]
    fig = roofline_figure(shapes, device="NVIDIA H200")
    (bars,) = fig.data
    assert list(bars.x) == ["1024", "4096"]
    assert list(bars.y) == pytest.approx([50.0, 61.2])
    assert list(bars.text) == ["2,400 GB/s", "41 TFLOP/s"]
    (peak,) = fig.layout.shapes
    assert peak.y0 == peak.y1 == 100.0 and peak.line.dash == "dash"
    assert "device peak" in annotation_texts(fig)
    assert fig.layout.yaxis.title.text == "share of the device's peak (%)"
    assert fig.layout.yaxis.range[1] >= 100


def test_roofline_without_any_peak_share_says_why() -> None:
    fig = roofline_figure([ShapeMetrics("s", median_us=3.0)], device="cpu")
    assert len(fig.data) == 0 and annotation_texts(fig) == [NO_ROOFLINE]


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
        archive_heatmap(pick([ArchiveCell("0", "1", 2, 1.3, 5)]), x_name="a_b", y_name="c", device="H200"),
        islands_figure(pick([IslandSummary(0, 3, 2, 1.1, 1)]), device="H200"),
        lineage_figure(pick([lineage_node(1, None), lineage_node(2, 1, improved=True)]), device="H200"),
        model_preference_figure(pick([ModelPreference("m", 2, 0.1, 0.2, 4.0, 1.0)])),
        roofline_figure(pick([ShapeMetrics("s", peak_fraction=0.4, achieved_gbps=9.0)]), device="H200"),
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
        assert note.text.startswith("no ") and (note.text.endswith(" yet") or note.text == NO_ROOFLINE)
        assert (note.x, note.y, note.xref, note.yref) == (0.5, 0.5, "paper", "paper")
    untimed = pareto_figure([point(1, timed=False)], "max_abs_err", device="d")
    assert annotation_texts(untimed) == ["no timed candidates yet"]
