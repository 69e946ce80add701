"""The phase clock: consecutive phases, time spent alongside them, and the one-line summary."""

from __future__ import annotations

import time

from evaluator.phases import PhaseClock, describe


def test_phases_follow_one_another_and_comparison_runs_alongside() -> None:
    clock = PhaseClock()
    clock.enter("start")
    time.sleep(0.02)
    clock.enter("correctness")
    time.sleep(0.03)
    clock.overlapping(0.01)
    clock.enter("start")  # a phase entered again adds to its total
    time.sleep(0.02)
    clock.enter("reference")  # too short to report
    phases = clock.finish()
    assert set(phases) == {"start", "correctness", "comparison"}
    assert 0.04 <= phases["start"] < 0.2 and 0.03 <= phases["correctness"] < 0.2
    assert phases["comparison"] == 0.01


def test_the_summary_names_each_phase_and_what_ran_alongside() -> None:
    text = describe({"start": 4.12, "correctness": 17.1, "comparison": 3.0})
    assert text == "start 4.1 s · correctness 17.1 s (comparison 3.0 s alongside)"
