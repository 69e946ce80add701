"""Pareto fronts over minimized objectives."""

from kernels.pareto import Point, dominates, pareto_front


def test_dominates_needs_strictly_better_somewhere() -> None:
    assert dominates((1, 1), (2, 1))
    assert not dominates((1, 1), (1, 1))
    assert not dominates((1, 3), (2, 1))


def test_front_keeps_only_non_dominated_points_sorted() -> None:
    points = [
        Point("a", (3.0, 1.0)),
        Point("b", (1.0, 3.0)),
        Point("c", (2.0, 2.0)),
        Point("d", (3.0, 3.0)),
        Point("e", (1.0, 3.0)),
    ]
    front = pareto_front(points)
    assert [p.item for p in front] == ["b", "c", "a"]


def test_front_is_exactly_the_non_dominated_points_with_first_seen_ties() -> None:
    import random

    rng = random.Random(3)
    for _ in range(50):
        # Few distinct values, so ties and dominance both happen often.
        points = [Point(i, tuple(float(rng.randrange(4)) for _ in range(3))) for i in range(60)]
        expected = [
            p
            for i, p in enumerate(points)
            if not any(dominates(q.values, p.values) for q in points)
            and not any(q.values == p.values for q in points[:i])
        ]
        front = pareto_front(points)
        assert [p.item for p in front] == [p.item for p in sorted(expected, key=lambda p: p.values)]
