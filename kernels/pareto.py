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
    """The non-dominated points, sorted by the first objective; exact ties keep the first seen."""
    front: list[Point[T]] = []
    for point in points:
        if any(dominates(other.values, point.values) or other.values == point.values for other in front):
            continue
        front = [other for other in front if not dominates(point.values, other.values)]
        front.append(point)
    return sorted(front, key=lambda p: p.values)
