"""The offline proposer: round-robin autotuning over real variant families."""

from __future__ import annotations

from collections import Counter

from agent.archive import Archive
from agent.offline import OfflineProposer
from evaluator.types import Status
from kernels.candidate import Origin, make_candidate
from kernels.config import Config, enumerate_space

SMALL = {"block": [1, 2, 4, 8], "warps": [1, 2]}  # 8 points, walked exhaustively
TINY = {"block": [4, 8]}


def drive(proposer: OfflineProposer, judge, limit: int = 500) -> list:
    """Propose and observe one at a time until the proposer has nothing left."""
    proposed = []
    archive = Archive()
    while (candidate := proposer.propose(archive)) is not None:
        proposed.append(candidate)
        proposer.observe(candidate, judge(candidate))
        assert len(proposed) <= limit, "proposer never ran out"
    return proposed


def test_round_robin_touches_every_family_first(family_factory) -> None:
    families = [family_factory(n, TINY) for n in ("alpha", "beta", "gamma")]
    proposer = OfflineProposer(families, seed=0)
    first = [proposer.propose(Archive()) for _ in range(4)]
    assert [c.family for c in first if c] == ["alpha", "beta", "gamma", "alpha"]
    assert [c.config for c in first if c] == [Config.of({"block": 4})] * 3 + [Config.of({"block": 8})]
    assert all(c is not None and c.origin is Origin.OFFLINE for c in first)
    assert first[0] is not None and first[0].source == families[0].source


def test_walks_every_config_of_small_families_then_is_exhausted(family_factory, ok_result) -> None:
    families = [family_factory("alpha", SMALL), family_factory("beta", TINY)]
    proposer = OfflineProposer(families, seed=0)
    proposed = drive(proposer, lambda c: ok_result(1.0))
    assert len(proposed) == 8 + 2
    assert len({c.hash for c in proposed}) == 10
    assert [c.config for c in proposed if c.family == "alpha"] == list(enumerate_space(SMALL))
    assert proposer.propose(Archive()) is None


def test_large_family_is_tuned_with_optuna_to_exhaustion(family_factory, ok_result) -> None:
    space = {"block": [1, 2, 3, 4, 5, 6], "warps": [1, 2, 3, 4, 5, 6]}  # 36 > 32 points
    proposer = OfflineProposer([family_factory("alpha", space)], seed=1)
    proposed = drive(proposer, lambda c: ok_result(1.0 + c.config.as_dict()["block"]))
    assert len(proposed) == 36
    assert {c.config for c in proposed} == set(enumerate_space(space))


def test_same_seed_gives_same_proposals(family_factory, ok_result, latency_of) -> None:
    space = {"block": list(range(1, 9)), "warps": list(range(1, 9))}  # 64 points: Optuna
    family = family_factory("alpha", space)

    def first_twenty(seed: int) -> list[Config]:
        proposer = OfflineProposer([family], seed=seed)
        return [c.config for c in drive(proposer, lambda c: ok_result(latency_of(c)))[:20]]

    assert first_twenty(3) == first_twenty(3)
    assert first_twenty(3) != first_twenty(4)


def test_interpreted_family_gets_at_most_the_cap(family_factory, ok_result) -> None:
    triton = family_factory("tri", SMALL, triton=True)
    torch_family = family_factory("torch", TINY)
    proposer = OfflineProposer([triton, torch_family], seed=0, interpreted_cap=2)
    proposed = drive(proposer, lambda c: ok_result(1.0, interpreted=c.family == "tri"))
    assert Counter(c.family for c in proposed) == {"tri": 2, "torch": 2}


def test_interpreted_cap_holds_while_results_are_still_in_flight(family_factory, ok_result) -> None:
    proposer = OfflineProposer([family_factory("tri", SMALL, triton=True)], seed=0, interpreted_cap=2)
    archive = Archive()
    in_flight = [proposer.propose(archive) for _ in range(4)]
    assert in_flight[2:] == [None, None]  # at most the cap before anyone knows
    for candidate in in_flight[:2]:
        assert candidate is not None
        proposer.observe(candidate, ok_result(1.0, interpreted=True))
    assert proposer.propose(archive) is None


def test_timed_family_is_not_capped(family_factory, ok_result) -> None:
    proposer = OfflineProposer([family_factory("tri", SMALL, triton=True)], seed=0, interpreted_cap=2)
    assert len(drive(proposer, lambda c: ok_result(1.0))) == 8


def test_family_whose_default_keeps_failing_is_dropped(family_factory, ok_result, failed_result) -> None:
    families = [family_factory("broken", SMALL), family_factory("good", SMALL)]
    proposer = OfflineProposer(families, seed=0)

    def judge(c):
        return failed_result(Status.COMPILE_ERROR) if c.family == "broken" else ok_result(1.0)

    proposed = drive(proposer, judge)
    assert Counter(c.family for c in proposed) == {"broken": 2, "good": 8}
    assert proposer.dropped == ["broken"]


def test_failures_after_a_working_default_do_not_drop_the_family(
    family_factory, ok_result, failed_result
) -> None:
    proposer = OfflineProposer([family_factory("alpha", SMALL)], seed=0)

    def judge(c):  # only the default compiles: the fault is in the configs, not the source
        return ok_result(1.0) if c.config.as_dict()["block"] == 1 else failed_result(Status.COMPILE_ERROR)

    assert len(drive(proposer, judge)) == 8
    assert proposer.dropped == []


def test_a_default_failure_followed_by_a_success_does_not_drop(
    family_factory, ok_result, failed_result
) -> None:
    proposer = OfflineProposer([family_factory("alpha", SMALL)], seed=0)
    default = Config.of({"block": 1, "warps": 1})

    def judge(c):
        return failed_result(Status.REJECTED) if c.config == default else ok_result(1.0)

    assert len(drive(proposer, judge)) == 8
    assert proposer.dropped == []


def test_observed_history_is_never_proposed_again(family_factory, ok_result) -> None:
    family = family_factory("alpha", SMALL)
    proposer = OfflineProposer([family], seed=0)
    done = [
        make_candidate(family.source, c.as_dict(), family="alpha") for c in list(enumerate_space(SMALL))[:3]
    ]
    for candidate in done:
        proposer.observe(candidate, ok_result(1.0))
    proposed = drive(proposer, lambda c: ok_result(1.0))
    assert len(proposed) == 5
    assert not {c.hash for c in done} & {c.hash for c in proposed}


def test_candidates_from_elsewhere_are_ignored(family_factory, ok_result, failed_result) -> None:
    family = family_factory("alpha", TINY)
    proposer = OfflineProposer([family], seed=0)
    stranger = make_candidate(
        family.source.replace("import torch", "import torch  # x\nY = 1"), family="alpha"
    )
    proposer.observe(stranger, failed_result(Status.COMPILE_ERROR))
    proposer.observe(make_candidate("x = 1\n", family="other"), ok_result(1.0))
    assert len(drive(proposer, lambda c: ok_result(1.0))) == 2
