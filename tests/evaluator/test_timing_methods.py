"""Which timing method a shape gets, and which reference figure a candidate's is compared with.

The CUDA timers are replaced by stand-ins that report fixed medians, so the choice itself is
tested here; the timers are tested on a GPU (``test_cuda_graph_timing.py``, marked ``gpu``).
"""

from __future__ import annotations

from typing import Any

import pytest

from evaluator.timing import cuda_graph as cuda_graph_timing
from evaluator.timing import methods as timing_methods
from evaluator.timing.methods import shape_method, time_call
from evaluator.timing.stats import TimingPlan, TimingStats, incomparable, same_method
from evaluator.wire.messages import ShapeTimed

EVENTS = "cuda_events_l2_flush"
GRAPH = cuda_graph_timing.METHOD


def stand_in_timers(monkeypatch: pytest.MonkeyPatch, event_us: float, capturable: bool = True) -> list[str]:
    """Event timing reports ``event_us``; graph timing reports 1 us less, or cannot capture."""
    calls: list[str] = []

    def events(call: Any, input_sets: Any, plan: TimingPlan, on_sample: Any = None) -> TimingStats:
        calls.append("events")
        return TimingStats(event_us, 0.1, 50, EVENTS)

    def graph(call: Any, input_sets: Any, plan: TimingPlan, **kwargs: Any) -> TimingStats:
        calls.append("graph")
        if not capturable:
            raise cuda_graph_timing.GraphCaptureError("the call cannot be captured in a CUDA graph")
        return TimingStats(event_us - 1.0, 0.05, 50, GRAPH)

    monkeypatch.setattr(timing_methods, "time_cuda", events)
    monkeypatch.setattr(timing_methods, "time_cuda_graph", graph)
    return calls


def methods(figures: list[TimingStats]) -> list[str]:
    return [f.method for f in figures]


@pytest.mark.parametrize(
    ("method", "event_us", "expected"),
    [
        ("events", 5.0, [EVENTS]),
        ("cuda_graph", 500.0, [GRAPH, EVENTS]),
        ("auto", 5.0, [GRAPH, EVENTS]),
        ("auto", 50.0, [EVENTS]),
    ],
)
def test_each_method_reports_its_figure_first_and_keeps_the_event_one(
    monkeypatch: pytest.MonkeyPatch, method: str, event_us: float, expected: list[str]
) -> None:
    calls = stand_in_timers(monkeypatch, event_us)
    figures = time_call("cuda:0", lambda inputs: None, [[]], TimingPlan(method=method, graph_below_us=20.0))
    assert methods(figures) == expected
    assert calls[0] == "events", "events always run first, so the timed outputs are checked"


def test_a_call_that_cannot_be_captured_falls_back_to_events(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = stand_in_timers(monkeypatch, 5.0, capturable=False)
    assert methods(time_call("cuda:0", lambda inputs: None, [[]], TimingPlan(method="auto"))) == [EVENTS]
    assert calls == ["events", "graph"]


def test_a_candidate_is_timed_as_the_reference_was_and_compared_like_with_like() -> None:
    ref_graph, ref_events = TimingStats(9.0, 0.1, 50, GRAPH), TimingStats(12.0, 0.3, 50, EVENTS)
    assert shape_method(ref_graph) == "cuda_graph" and shape_method(ref_events) == "events"
    assert shape_method(TimingStats(40.0, 1.0, 20, "cpu_perf_counter")) == "events"
    reference = [ref_graph, ref_events]
    captured, fell_back = TimingStats(3.0, 0.1, 50, GRAPH), TimingStats(6.0, 0.2, 50, EVENTS)
    assert same_method(captured, reference) is ref_graph
    assert same_method(fell_back, reference) is ref_events, "a capture failure still gets a speedup"
    assert incomparable(fell_back, same_method(fell_back, reference)) is None
    assert incomparable(captured, same_method(captured, [ref_events])) is not None


def test_every_figure_crosses_the_process_boundary(through_a_pipe: Any) -> None:
    figures = (TimingStats(4.9, 0.02, 60, GRAPH), TimingStats(7.3, 0.1, 80, EVENTS))
    assert through_a_pipe(ShapeTimed("small", figures)) == ShapeTimed("small", figures)
    assert through_a_pipe(ShapeTimed("wide", figures[1:])) == ShapeTimed("wide", figures[1:])
