"""The LLM proposer in the search loop, against a scripted OpenAI-compatible server on loopback.

The executor double judges by source (a candidate that calls ``abs`` is right, any other is a
wrong output), so these tests check the agent's side: every call accounted for, failures shown
to later prompts, caps and stops honoured, nothing paid for twice across a resume.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from agent.archive import Archive
from agent.calls import CallResult, Caps, MemoryCallLog
from agent.islands import IslandSettings
from agent.llm.client import LLMClientConfig
from agent.llm.models import ModelWeight, parse_prices
from agent.llm_proposer import LLMProposer, LLMSettings
from agent.loop import StopReason, run_search
from agent.prompt_types import ProblemBrief
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate
from tests.fakes.scripted_llm import Delay, HttpError, Reply, ScriptedLLM

REFERENCE = """import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.abs(x)


def get_inputs():
    return [torch.randn(8, 8)]


def get_init_inputs():
    return []
"""

GOOD = """Here is a faster kernel.

```python
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x.abs()
```
"""

WRONG = """```python
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x * 1.0
```
"""

BROKEN = "```python\nclass ModelNew(torch.nn.Module:\n    pass\n```\n"
PROSE = "I would make it faster by fusing the operations, but I cannot write code today."
EDIT = """<<<<<<< SEARCH
        return x.abs()
=======
        return torch.where(x < 0, -x, x)
>>>>>>> REPLACE
"""


# Six answers that differ in structure, not only in constants (the novelty filter sees through those).
STRUCTURES = [
    "x.abs()",
    "torch.abs(x)",
    "torch.where(x < 0, -x, x)",
    "torch.maximum(x, -x)",
    "x * x.sign()",
    "torch.sqrt(x * x)",
]


def kernel(body: str) -> str:
    return GOOD.replace("x.abs()", body)


def judge(candidate: Candidate) -> EvalResult:
    if any(body in candidate.source for body in STRUCTURES):
        shape = ShapeMetrics("small", median_us=5.0, samples=10, max_abs_err=0.0, speedup=1.5)
        return EvalResult(Status.OK, Stage.DONE, "ok", shapes=(shape,))
    return EvalResult(Status.WRONG_OUTPUT, Stage.CORRECTNESS, "shape small trial 0: max abs error 2.0")


def proposer(llm: ScriptedLLM, log: MemoryCallLog, **settings: Any) -> LLMProposer:
    config = LLMClientConfig(
        base_url=llm.base_url,
        max_concurrent=settings.pop("max_concurrent", 2),
        attempt_timeout_s=settings.pop("attempt_timeout_s", 3.0),
        total_timeout_s=settings.pop("total_timeout_s", 8.0),
        max_attempts=3,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        max_response_chars=20_000,
    )
    return LLMProposer(
        ProblemBrief("abs", REFERENCE, "small (n=8)"),
        [],
        LLMSettings((ModelWeight("model-a"),), max_concurrent=config.max_concurrent, **settings),
        config,
        log,
        prices=parse_prices("model-a=1000/2000"),
        seed=3,
    )


def run(proposer: LLMProposer, executor: Any, recorder: Any, budget: int, **kwargs: Any) -> Any:
    try:
        return run_search(proposer, executor, recorder, budget, **kwargs)
    finally:
        proposer.close()


def user_prompts(llm: ScriptedLLM) -> list[str]:
    return [next(m["content"] for m in r.messages if m["role"] == "user") for r in llm.requests]


def test_a_run_accounts_every_call_and_shows_failures_to_later_prompts(
    executor_factory: Callable[..., Any], recorder: Any
) -> None:
    script = [PROSE, BROKEN, WRONG, GOOD, HttpError(500), Reply(EDIT)]
    with ScriptedLLM([Reply(s) if isinstance(s, str) else s for s in script], then=Reply(PROSE)) as llm:
        log = MemoryCallLog()
        llm_proposer = proposer(llm, log, max_concurrent=1, caps=Caps(max_calls=6))
        outcome = run(llm_proposer, executor_factory(judge, threaded=True), recorder, budget=20)
        prompts = user_prompts(llm)
    calls = log.calls()
    # The 500 was retried by the client: one call, two requests.
    assert len(llm.requests) == len(calls) + 1
    outcomes = [c.outcome for c in calls]
    assert outcomes[0] == "no_code" and outcomes[1] == "syntax_error" and outcomes[2] == CallResult.OK.value
    assert CallResult.OK.value in outcomes[3:] and outcomes.count("no_code") >= 1
    assert outcome.stopped_reason is StopReason.CAP and "call cap" in (outcome.detail or "")
    # What went wrong reaches the next prompts: the parse failure, then the wrong output.
    assert "no ```python block" in prompts[1]
    assert any("max abs error 2.0" in p for p in prompts[3:])
    # Every written candidate is stored, linked to the call that wrote it.
    written = {c.candidate_hash for c in calls if c.candidate_hash}
    assert written <= set(recorder.hashes()) and len(written) >= 2
    spend = llm_proposer.spend
    assert spend.calls == len(calls) and spend.prompt_tokens == sum(c.prompt_tokens for c in calls)
    assert spend.cost_usd == pytest.approx(sum(c.cost_usd for c in calls)) and spend.cost_usd > 0


def test_endpoint_failures_are_recorded_and_the_run_goes_on(
    executor_factory: Callable[..., Any], recorder: Any
) -> None:
    # A stalled endpoint: every attempt of the second call outlasts the bound (three at most).
    stalled = [Delay(30.0)] * 3
    script = [HttpError(429, {"Retry-After": "0"}), Reply(GOOD), *stalled, HttpError(400)]
    with ScriptedLLM(script, then=Reply(PROSE)) as llm:
        log = MemoryCallLog()
        llm_proposer = proposer(
            llm, log, max_concurrent=1, attempt_timeout_s=1.0, total_timeout_s=2.0, caps=Caps(max_calls=5)
        )
        outcome = run(llm_proposer, executor_factory(judge, threaded=True), recorder, budget=10)
    outcomes = [c.outcome for c in log.calls()]
    assert outcomes[0] == CallResult.OK.value  # after the 429
    assert "timeout" in outcomes and "bad_request" in outcomes
    assert outcome.stopped_reason is StopReason.CAP
    assert all(r is not None for r in recorder.results.values()) and not recorder.pending


def test_calls_overlap_evaluations_up_to_the_limit(
    executor_factory: Callable[..., Any], recorder: Any
) -> None:
    bodies = iter(STRUCTURES * 3)
    with ScriptedLLM(lambda _: Delay(0.3, Reply(kernel(next(bodies))))) as llm:
        log = MemoryCallLog()
        llm_proposer = proposer(llm, log, max_concurrent=2)
        outcome = run(llm_proposer, executor_factory(judge, threaded=True, slots=2, delay_s=0.3), recorder, 6)
        most_at_once = llm.max_in_flight
    assert outcome.stopped_reason is StopReason.BUDGET and outcome.evaluated == 6
    assert most_at_once == 2, "two calls in flight at once, never more"


def test_a_model_that_only_repeats_itself_is_not_paid_forever(
    executor_factory: Callable[..., Any], recorder: Any
) -> None:
    with ScriptedLLM([], then=Reply(GOOD)) as llm:
        log = MemoryCallLog()
        repeater = proposer(llm, log, max_concurrent=1, max_fruitless_calls=4)
        outcome = run(repeater, executor_factory(judge), recorder, 50)
    assert outcome.stopped_reason is StopReason.CAP and "4 writer calls in a row" in (outcome.detail or "")
    outcomes = [c.outcome for c in log.calls()]
    assert outcomes.count(CallResult.OK.value) == 1 and outcomes[1:] == [CallResult.DUPLICATE.value] * 4


def test_a_resumed_run_pays_for_no_call_twice(executor_factory: Callable[..., Any], recorder: Any) -> None:
    bodies = itertools.cycle(STRUCTURES)  # repeats are duplicates: recorded calls all the same

    with ScriptedLLM(lambda _: Reply(kernel(next(bodies)))) as llm:
        log = MemoryCallLog()

        def stop_after_two() -> bool:
            return len(recorder.results) >= 2

        first = run(
            proposer(llm, log),
            executor_factory(judge, threaded=True),
            recorder,
            8,
            should_stop=stop_after_two,
        )
        results = len(recorder.results)
        second = run(proposer(llm, log), executor_factory(judge, threaded=True), recorder, 8)
    assert first.stopped_reason is StopReason.STOPPED and results >= 2
    assert second.evaluated == 8 or second.stopped_reason is not StopReason.STOPPED
    hashes = [c.prompt_hash for c in log.calls()]
    assert len(hashes) == len(set(hashes)), "a prompt asked twice in one run"
    # Every request the endpoint saw is in the account (a call cancelled by the stop included).
    assert len(llm.requests) <= len(hashes)
    assert all(c.outcome != "cancelled" or not c.response for c in log.calls())


def test_a_resumed_run_rebuilds_its_islands_tips_and_bandit(
    executor_factory: Callable[..., Any], recorder: Any
) -> None:
    """Kill a run with islands migrating and tips evolving; a proposer built from what was kept
    (the call log and the recorder's history) comes back to the same state."""
    bodies = itertools.cycle(STRUCTURES)
    ideas = itertools.count()

    def answer(request: Any) -> Reply:
        system = next(m["content"] for m in request.messages if m["role"] == "system")
        if "You improve the instructions" in system:
            return Reply(f"## idea-{next(ideas)}\n\nTry idea number {next(ideas)}.\n")
        return Reply(kernel(next(bodies)))

    def faster_by_structure(candidate: Candidate) -> EvalResult:
        index = next((i for i, body in enumerate(STRUCTURES) if body in candidate.source), None)
        if index is None:
            return judge(candidate)
        shape = ShapeMetrics(
            "small", median_us=9.0 - index, samples=10, max_abs_err=0.0, speedup=1.0 + index / 4
        )
        return EvalResult(Status.OK, Stage.DONE, "ok", shapes=(shape,))

    settings = {"islands": IslandSettings(islands=2, migration_interval=2), "tip_evolution_every": 2}
    with ScriptedLLM(answer) as llm:
        log = MemoryCallLog()
        first = proposer(llm, log, **settings)
        outcome = run(
            first,
            executor_factory(faster_by_structure, threaded=True),
            recorder,
            12,
            should_stop=lambda: len(recorder.results) >= 6,
        )
    first.catch_up(outcome.archive)
    assert log.migrations(), "the islands traded elites before the stop"
    assert any(c.role == "meta" and c.outcome == "ok" for c in log.calls()), "a tip was evolved"
    assert any(t.evolved for t in first.tips.tips)

    second = proposer(ScriptedLLM(), log, **settings)  # never started: it must not be called
    archive = Archive()
    for entry in recorder.history():
        if entry.result is not None:
            archive.update(entry.candidate_id, entry.candidate, entry.result)
            second.observe(entry.candidate, entry.result)
    second.catch_up(archive)
    assert second.islands.snapshot() == first.islands.snapshot()
    assert second.islands.migrations == first.islands.migrations
    assert [(t, second.tips.score(t.id)) for t in second.tips.tips] == [
        (t, first.tips.score(t.id)) for t in first.tips.tips
    ]
    assert second._bandit.state() == first._bandit.state()
    writers = [c for c in log.calls() if c.role == "writer"]
    assert {c.island for c in writers} == {0, 1} and all(len(c.tips) == 2 for c in writers)
