"""The search loop: budget, parallel slots, dedupe, recording, resume, failures, stop, events."""

from __future__ import annotations

from collections import Counter

import pytest

from agent.loop import EventKind, SearchEvent, StopReason, run_search
from agent.offline import OfflineProposer
from evaluator.types import Stage, Status
from kernels.candidate import Candidate, make_candidate
from kernels.config import enumerate_space

SPACE = {"block": [1, 2, 4, 8], "warps": [1, 2]}  # 8 points; best at block=4, warps=2


@pytest.fixture
def families(family_factory):
    return [family_factory("alpha", SPACE), family_factory("beta", SPACE)]


def test_exhausts_small_families_and_finds_the_best(families, executor_factory, recorder, latency_of) -> None:
    executor = executor_factory()
    outcome = run_search(OfflineProposer(families, seed=0), executor, recorder, budget=100)
    assert outcome.stopped_reason is StopReason.EXHAUSTED
    assert outcome.evaluated == outcome.newly_evaluated == 16
    assert len(recorder.candidates) == 16 and recorder.pending == []
    assert outcome.best is not None
    assert outcome.best.candidate.family == "beta"  # shorter name: the executor double makes it faster
    assert outcome.best.candidate.config.as_dict() == {"block": 4, "warps": 2}
    assert outcome.best.result.latency_us == pytest.approx(min(map(latency_of, executor.submitted)))
    assert outcome.status_counts == {Status.OK: 16}
    assert [e.candidate_id for e in outcome.pareto] == [outcome.best.candidate_id]


def test_small_budget_touches_every_family(family_factory, executor_factory, recorder) -> None:
    families = [family_factory(n, SPACE) for n in ("alpha", "beta", "gamma")]
    outcome = run_search(OfflineProposer(families, seed=0), executor_factory(), recorder, budget=3)
    assert outcome.stopped_reason is StopReason.BUDGET
    assert sorted(c.family for c in recorder.candidates.values()) == ["alpha", "beta", "gamma"]


@pytest.mark.parametrize("threaded", [False, True])
def test_budget_and_slots_are_respected(families, executor_factory, recorder, threaded: bool) -> None:
    executor = executor_factory(slots=3, threaded=threaded, delay_s=0.01 if threaded else 0.0)
    outcome = run_search(OfflineProposer(families, seed=0), executor, recorder, budget=7)
    assert outcome.stopped_reason is StopReason.BUDGET
    assert outcome.evaluated == 7
    assert len(executor.submitted) == 7
    assert len(recorder.candidates) == 7 and recorder.pending == []
    assert recorder.max_pending == 3  # three in flight at once, never more


def test_duplicates_are_skipped_without_using_budget(
    family_factory, executor_factory, recorder, scripted
) -> None:
    family = family_factory("alpha", SPACE)
    a, b, c, d = (make_candidate(family.source, cfg.as_dict()) for cfg in list(enumerate_space(SPACE))[:4])
    a_again = make_candidate(family.source + "\n# a comment changes nothing\n", a.config.as_dict())
    proposer = scripted([a, a, b, a_again, c, d])
    executor = executor_factory()
    outcome = run_search(proposer, executor, recorder, budget=3)
    assert [x.hash for x in executor.submitted] == [a.hash, b.hash, c.hash]
    assert recorder.hashes() == [a.hash, b.hash, c.hash]
    assert outcome.duplicates_skipped == 2
    assert outcome.evaluated == 3 and outcome.stopped_reason is StopReason.BUDGET


def test_endless_duplicates_end_the_run(family_factory, executor_factory, recorder, scripted) -> None:
    same = make_candidate(family_factory("alpha", SPACE).source)
    proposer = scripted([same], repeat_last=True)
    outcome = run_search(proposer, executor_factory(), recorder, budget=50, max_duplicates=5)
    assert outcome.stopped_reason is StopReason.EXHAUSTED
    assert outcome.evaluated == 1
    assert proposer.proposed == 1 + 5


def test_resume_evaluates_only_the_rest_and_never_repeats(families, executor_factory, recorder) -> None:
    first = executor_factory(slots=2)
    outcome = run_search(OfflineProposer(families, seed=0), first, recorder, budget=5)
    assert outcome.evaluated == 5
    second = executor_factory(slots=2)  # a fresh process: new proposer, same store
    outcome = run_search(OfflineProposer(families, seed=0), second, recorder, budget=10)
    assert outcome.evaluated == 10 and outcome.newly_evaluated == 5
    assert len(second.submitted) == 5
    assert not {c.hash for c in first.submitted} & {c.hash for c in second.submitted}
    assert len(set(recorder.hashes())) == len(recorder.candidates) == 10
    assert outcome.stopped_reason is StopReason.BUDGET


def test_history_results_feed_the_archive_and_the_proposer(
    family_factory, executor_factory, recorder, scripted, ok_result
) -> None:
    family = family_factory("alpha", SPACE)
    old = make_candidate(family.source, {"block": 4, "warps": 2}, family="alpha")
    recorder.record(recorder.add(old), ok_result(0.5))
    proposer = scripted([])
    outcome = run_search(proposer, executor_factory(), recorder, budget=10)
    assert [c.hash for c, _ in proposer.observed] == [old.hash]
    assert outcome.best is not None and outcome.best.candidate_id == 1
    assert outcome.evaluated == 1 and outcome.newly_evaluated == 0
    assert outcome.stopped_reason is StopReason.EXHAUSTED


def test_budget_already_spent_by_history_evaluates_nothing(
    families, executor_factory, recorder, ok_result
) -> None:
    for cfg in list(enumerate_space(SPACE))[:3]:
        recorder.record(
            recorder.add(make_candidate(families[0].source, cfg.as_dict(), family="alpha")), ok_result(1.0)
        )
    executor = executor_factory()
    outcome = run_search(OfflineProposer(families, seed=0), executor, recorder, budget=2)
    assert executor.submitted == []
    assert outcome.stopped_reason is StopReason.BUDGET
    assert outcome.evaluated == 3 and outcome.newly_evaluated == 0


def test_pending_history_is_evaluated_first_under_its_stored_id(
    families, executor_factory, recorder, ok_result
) -> None:
    configs = list(enumerate_space(SPACE))
    done = make_candidate(families[0].source, configs[0].as_dict(), family="alpha")
    recorder.record(recorder.add(done), ok_result(3.0))
    pending = [make_candidate(families[1].source, cfg.as_dict(), family="beta") for cfg in configs[5:7]]
    pending_ids = [recorder.add(c) for c in pending]
    executor = executor_factory(slots=1)
    outcome = run_search(OfflineProposer(families, seed=0), executor, recorder, budget=6)
    assert [c.hash for c in executor.submitted[:2]] == [c.hash for c in pending]
    assert all(i in recorder.results for i in pending_ids)
    assert len(recorder.candidates) == 6  # 3 from history, 3 new: the pending ones were not re-added
    assert len(set(recorder.hashes())) == 6
    assert outcome.evaluated == 6 and outcome.newly_evaluated == 5


def test_a_raising_future_becomes_a_crashed_result(
    families, executor_factory, recorder, latency_of, ok_result
):
    def judge(c: Candidate):
        if c.config.as_dict() == {"block": 2, "warps": 1}:
            raise RuntimeError("worker lost")
        return ok_result(latency_of(c))

    executor = executor_factory(judge, slots=2, threaded=True)
    outcome = run_search(OfflineProposer(families, seed=0), executor, recorder, budget=100)
    crashed = [r for r in recorder.results.values() if r.status is Status.CRASHED]
    assert len(crashed) == 2  # one per family
    assert all(
        r.stage is Stage.LOAD and r.reason == "executor failed: RuntimeError: worker lost" for r in crashed
    )
    assert outcome.evaluated == 16 and outcome.status_counts == {Status.OK: 14, Status.CRASHED: 2}


def test_a_raising_submit_becomes_a_crashed_result(family_factory, recorder, scripted) -> None:
    class BrokenExecutor:
        slots = 1

        def submit(self, candidate):
            raise ConnectionError("ray cluster gone")

    family = family_factory("alpha", SPACE)
    proposer = scripted([make_candidate(family.source)])
    outcome = run_search(proposer, BrokenExecutor(), recorder, budget=5)
    [result] = recorder.results.values()
    assert result.status is Status.CRASHED
    assert result.reason == "executor failed: ConnectionError: ray cluster gone"
    assert proposer.observed[0][1] is result
    assert outcome.status_counts == {Status.CRASHED: 1}


def test_should_stop_ends_the_run_after_in_flight_results(families, executor_factory, recorder) -> None:
    executor = executor_factory(slots=3, threaded=True, delay_s=0.01)
    outcome = run_search(
        OfflineProposer(families, seed=0),
        executor,
        recorder,
        budget=100,
        should_stop=lambda: len(recorder.results) >= 2,
    )
    assert outcome.stopped_reason is StopReason.STOPPED
    assert 2 <= outcome.evaluated <= 4
    assert recorder.pending == []  # everything in flight was awaited and recorded
    assert len(executor.submitted) == outcome.evaluated


def test_events_drive_a_progress_bar(families, executor_factory, recorder) -> None:
    events: list[SearchEvent] = []
    outcome = run_search(
        OfflineProposer(families, seed=0),
        executor_factory(slots=2),
        recorder,
        budget=6,
        on_event=events.append,
    )
    kinds = Counter(e.kind for e in events)
    assert events[0].kind is EventKind.STARTED and events[0].evaluated == 0
    assert events[-1].kind is EventKind.FINISHED and events[-1].stopped_reason is StopReason.BUDGET
    assert kinds == {EventKind.STARTED: 1, EventKind.SUBMITTED: 6, EventKind.RESULT: 6, EventKind.FINISHED: 1}
    results = [e for e in events if e.kind is EventKind.RESULT]
    assert [e.evaluated for e in results] == [1, 2, 3, 4, 5, 6]
    assert all(e.budget == 6 and e.candidate is not None and e.result is not None for e in results)
    assert all(e.in_flight <= 2 for e in events)
    assert results[-1].best == outcome.best
    assert {e.candidate_id for e in results} == set(recorder.candidates)
