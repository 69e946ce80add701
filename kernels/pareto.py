"""Pareto fronts over minimized objectives (latency, error, memory), shared by archive and store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

OBJECTIVES = ("latency_us", "max_abs_err", "peak_mem_bytes")


@dataclass(frozen=True)
class Point(Generic[T]):
    """An item and its objective values; every objective is minimized."""

    item: T
    values: tuple[float, ...]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """a dominates b: no worse anywhere and strictly better somewhere."""
    pairs = list(zip(a, b, strict=True))
    return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)


def pareto_front(points: Sequence[Point[T]]) -> list[Point[T]]:
    """The non-dominated points, sorted by the objectives; exact ties keep the first seen.

    After a stable sort no point can dominate one before it, so one sweep that checks each
    point against the front kept so far is enough: O(n log n + n * front) for 100k points.
    """
    front: list[Point[T]] = []
    for point in sorted(points, key=lambda p: p.values):
        values = point.values
        if any(all(a <= b for a, b in zip(kept.values, values, strict=True)) for kept in front):
            continue  # dominated by, or equal to, a point already on the front
        front.append(point)
    return front
