"""The search's own charts: the MAP-Elites archive, the islands, a lineage tree and the model bandit.

Pure builders like those in ``figures`` (typed view rows in, a plotly Figure out) and in the same
look. Every marker or cell that stands for a candidate carries its id as customdata, so a click
can open it. Lineages can be thousands of generations deep, so the tree is laid out without
recursion.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures import (
    CANDIDATE_HOVER,
    FRONT_COLOR,
    empty_figure,
    in_status_order,
    status_color,
    styled,
)
from store.search_views import ArchiveCell, IslandSummary, LineageNode, ModelPreference

_NUMERIC = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)")  # "3", "0.5", "3+", "10-20": ordered by the number
_EDGE_COLOR = "#b0b0b0"
_IMPROVED_COLOR = "#2e9e44"


def archive_heatmap(cells: Sequence[ArchiveCell], *, x_name: str, y_name: str, device: str) -> go.Figure:
    """The MAP-Elites grid: each cell's best speedup, so the unexplored or weak niches stand out.

    A cell with candidates but none timed has no colour (z None, never 0: 0 would read as a slow
    kernel), but its hover still counts them. customdata is the cell's best id, for a click."""
    x_label, y_label = x_name.replace("_", " "), y_name.replace("_", " ")
    title = f"Archive: best speedup per {x_label} × {y_label} · {device}"
    if not cells:
        return empty_figure(title, "no candidates in the archive yet")
    xs = sorted({c.x for c in cells}, key=_natural_key)
    ys = sorted({c.y for c in cells}, key=_natural_key)
    at = {(c.x, c.y): c for c in cells}
    grid = [[at.get((x, y)) for x in xs] for y in ys]
    hover = [[_cell_hover(at.get((x, y)), x_label, x, y_label, y) for x in xs] for y in ys]
    fig = go.Figure(
        go.Heatmap(
            x=xs,
            y=ys,
            z=[[None if c is None else c.best_speedup for c in row] for row in grid],
            customdata=[[None if c is None else c.best_id for c in row] for row in grid],
            text=[[_cell_label(c) for c in row] for row in grid],
            texttemplate="%{text}",
            hovertext=hover,
            hoverinfo="text",
            colorscale="Viridis",
            colorbar={"title": {"text": "best speedup (×)"}},
            xgap=2,
            ygap=2,
            name="archive",
        )
    )
    fig.update_xaxes(title_text=x_label, type="category")
    fig.update_yaxes(title_text=y_label, type="category")
    return styled(fig, title, height=max(420, 140 + 44 * len(ys)))


def islands_figure(islands: Sequence[IslandSummary], *, device: str) -> go.Figure:
    """Candidates and ok verdicts per island as grouped bars, and each island's best on a second axis.

    An island that writes many candidates but rarely improves is visible at a glance; the hover
    adds the elites it received, since migration is how a stuck island catches up."""
    title = f"Islands · {device}"
    if not islands:
        return empty_figure(title, "no islands yet")
    ordered = sorted(islands, key=lambda i: i.island)
    names = [f"island {i.island}" for i in ordered]
    migrations = [i.migrations_in for i in ordered]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for name, values, color in (
        ("candidates", [i.candidates for i in ordered], "#7aa6d8"),
        ("ok", [i.ok for i in ordered], status_color("ok")),
    ):
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                name=name,
                marker_color=color,
                customdata=migrations,
                hovertemplate=f"%{{x}}: %{{y:,}} {name}<br>%{{customdata}} migrants received<extra></extra>",
            ),
            secondary_y=False,
        )
    fig.add_trace(
        go.Scatter(
            x=names,
            y=[i.best_speedup for i in ordered],
            name="best speedup",
            mode="markers",
            marker={"size": 13, "symbol": "diamond", "color": FRONT_COLOR},
            customdata=migrations,
            hovertemplate="%{x}: best %{y:.3g}×<br>%{customdata} migrants received<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="candidates", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="best speedup (×)", rangemode="tozero", showgrid=False, secondary_y=True)
    return styled(fig, title).update_layout(margin_r=72)


def lineage_figure(nodes: Sequence[LineageNode], *, device: str) -> go.Figure:
    """The ancestry of the run's best candidates as a tree, the edges that improved in green.

    It shows which steps paid off and how deep the winners' line runs. Each node is drawn once,
    at its generation from the drawn root (x) and a row near its children (y, see ``tree_layout``)."""
    title = f"Lineage of the best candidates · {device}"
    if not nodes:
        return empty_figure(title, "no lineage yet")
    by_id: dict[int, LineageNode] = {}
    for n in nodes:
        by_id.setdefault(n.candidate_id, n)  # of repeated ids, the first
    depth, row, parent = tree_layout([(n.candidate_id, n.parent_id) for n in by_id.values()])
    fig = go.Figure()
    for name, improved, color, width in (
        ("edge", False, _EDGE_COLOR, 1.2),
        ("improved", True, _IMPROVED_COLOR, 3.0),
    ):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for child, up in parent.items():
            if by_id[child].improved == improved:
                xs += [depth[up], depth[child], None]
                ys += [row[up], row[child], None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": color, "width": width},
                hoverinfo="skip",
                name=name,
                showlegend=improved,
            )
        )
    for status in in_status_order({n.status or "pending" for n in by_id.values()}):
        mine = [n for n in by_id.values() if (n.status or "pending") == status]
        fig.add_trace(
            go.Scatter(
                x=[depth[n.candidate_id] for n in mine],
                y=[row[n.candidate_id] for n in mine],
                mode="markers",
                marker={
                    "size": [_node_size(n.speedup) for n in mine],
                    "color": status_color(status),
                    "line": {"color": "white", "width": 1},
                },
                customdata=[n.candidate_id for n in mine],
                text=[_node_hover(n, status) for n in mine],
                hovertemplate=CANDIDATE_HOVER,
                name=status,
            )
        )
    fig.update_xaxes(title_text="generations from the root", rangemode="tozero", zeroline=False)
    fig.update_yaxes(visible=False)
    leaves = max(row.values()) + 1  # leaves hold rows 0, 1, ...; parents sit between them
    return styled(fig, title, height=min(1200, max(420, 120 + 18 * int(leaves))))


def tree_layout(
    edges: Sequence[tuple[int, int | None]],
) -> tuple[dict[int, int], dict[int, float], dict[int, int]]:
    """Depth, row and drawn parent of each (id, parent id), iteratively, for trees of any depth.

    An id whose parent is not among the ids is a root at depth 0. Leaves take consecutive rows in
    depth-first order (children by id) and a parent sits at the mean of its children's rows, so a
    subtree stays together. Ids on a parent cycle (bad data) have no root, so the first of them by
    id is drawn as one: every id gets exactly one place, and the walk always ends."""
    ids = {cid for cid, _ in edges}
    children: dict[int, list[int]] = {cid: [] for cid in ids}
    for cid, up in sorted(edges, key=lambda edge: edge[0]):
        if up is not None and up in ids and up != cid:
            children[up].append(cid)
    roots = sorted(cid for cid, up in edges if up is None or up not in ids)
    depth: dict[int, int] = {}
    row: dict[int, float] = {}
    parent: dict[int, int] = {}
    kids: dict[int, list[int]] = {}
    leaves = 0
    for start in [*roots, *sorted(ids)]:  # the ids after the roots only place cycles
        if start in depth:
            continue
        depth[start] = 0
        stack = [(start, iter(children[start]))]
        while stack:
            cid, pending = stack[-1]
            child = next((c for c in pending if c not in depth), None)
            if child is not None:
                depth[child], parent[child] = depth[cid] + 1, cid
                kids.setdefault(cid, []).append(child)
                stack.append((child, iter(children[child])))
                continue
            stack.pop()
            placed = kids.get(cid)
            if placed:
                row[cid] = sum(row[k] for k in placed) / len(placed)
            else:
                row[cid], leaves = float(leaves), leaves + 1
    return depth, row, parent


def model_preference_figure(prefs: Sequence[ModelPreference]) -> go.Figure:
    """Each model's share of the summed improvement per dollar: who the model bandit leans to.

    The hover gives what the share is made of (calls, cost, improvement per call and per dollar),
    so a cheap model with a high share and a strong one that is merely expensive can be told apart."""
    title = "Model preference: share of improvement per dollar"
    if not prefs:
        return empty_figure(title, "no model calls with an outcome yet")
    ordered = sorted(prefs, key=lambda m: (-m.share, m.model))
    fig = go.Figure(
        go.Bar(
            x=[100 * m.share for m in ordered],
            y=[m.model for m in ordered],
            orientation="h",
            marker_color=FRONT_COLOR,
            text=[f"{100 * m.share:.0f} %" for m in ordered],
            textposition="outside",
            cliponaxis=False,
            customdata=[
                [m.calls, m.cost_usd, m.improvement_per_call, m.improvement_per_usd] for m in ordered
            ],
            hovertemplate=(
                "%{y}: %{x:.1f} %<br>%{customdata[0]:,} calls, $%{customdata[1]:.4f}"
                "<br>improvement %{customdata[2]:.3g} per call, %{customdata[3]:.3g} per $<extra></extra>"
            ),
            name="share",
        )
    )
    fig.update_xaxes(title_text="share of improvement per dollar (%)", range=[0, 105])
    fig.update_yaxes(autorange="reversed")  # the favourite on top
    return styled(fig, title, height=max(240, 60 + 36 * len(ordered)))


def _natural_key(value: str) -> tuple[int, float, str]:
    """Numeric-looking values ("0", "2", "3+", "10") by their number, after them the rest by name."""
    match = _NUMERIC.match(value)
    return (0, float(match.group(1)), value) if match else (1, 0.0, value)


def _cell_label(cell: ArchiveCell | None) -> str:
    if cell is None:
        return ""
    best = "—" if cell.best_speedup is None else f"{cell.best_speedup:.2f}×"
    return f"{best}<br>{cell.candidates}"


def _cell_hover(cell: ArchiveCell | None, x_label: str, x: str, y_label: str, y: str) -> str:
    where = f"{x_label} {x} · {y_label} {y}"
    if cell is None:
        return f"{where}<br>no candidates"
    best = "none timed" if cell.best_speedup is None else f"best {cell.best_speedup:.3g}×"
    elite = "" if cell.best_id is None else f" (c{cell.best_id})"
    return f"{where}<br>{cell.candidates:,} candidates<br>{best}{elite}"


def _node_size(speedup: float | None) -> float:
    """7 px for no speedup, growing with it to 22 px at 3× and above."""
    if speedup is None or not math.isfinite(speedup):
        return 7.0
    return 7.0 + 5.0 * min(max(speedup, 0.0), 3.0)


def _node_hover(node: LineageNode, status: str) -> str:
    speedup = "—" if node.speedup is None else f"{node.speedup:.3g}×"
    gain = " · improved on its parent" if node.improved else ""
    return f"{node.family} · {status}<br>speedup {speedup}{gain}"
