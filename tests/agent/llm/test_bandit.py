"""The model bandit: prior weights first, then improvement per dollar; restorable from its state."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from agent.llm.bandit import BanditState, ModelBandit
from agent.llm.models import ModelWeight

# Per model: (chance a call improves the best, improvement when it does, cost per call in USD).
Landscape = dict[str, tuple[float, float, float]]


def simulate(bandit: ModelBandit, landscape: Landscape, rounds: int, world: random.Random) -> list[str]:
    chosen = []
    for _ in range(rounds):
        model = bandit.choose()
        chance, size, cost = landscape[model]
        improvement = size * world.uniform(0.5, 1.5) if world.random() < chance else 0.0
        bandit.update(model, improvement, cost)
        chosen.append(model)
    return chosen


def test_without_observations_choices_follow_the_weights() -> None:
    bandit = ModelBandit([ModelWeight("a", 0.9), ModelWeight("b", 0.1)], random.Random(1))
    share = Counter(bandit.choose() for _ in range(2000))["a"] / 2000
    assert 0.85 < share < 0.95


def test_prefers_the_cheaper_model_when_both_improve_alike() -> None:
    bandit = ModelBandit([ModelWeight("cheap"), ModelWeight("dear")], random.Random(2))
    chosen = simulate(bandit, {"cheap": (0.5, 1.0, 0.001), "dear": (0.5, 1.0, 0.02)}, 300, random.Random(3))
    assert Counter(chosen[-100:])["cheap"] >= 85
    assert Counter(chosen)["dear"] >= 3  # it was tried, not ruled out from the prior


def test_learns_per_dollar_against_a_prior_that_favours_the_other_model() -> None:
    # "strong" improves more per call, but "thrifty" improves far more per dollar.
    models = [ModelWeight("strong", 0.8), ModelWeight("thrifty", 0.2)]
    bandit = ModelBandit(models, random.Random(4))
    landscape = {"strong": (0.6, 2.0, 0.05), "thrifty": (0.4, 1.0, 0.002)}
    chosen = simulate(bandit, landscape, 300, random.Random(5))
    assert Counter(chosen[:20])["strong"] >= 3  # every model gets its first calls
    assert Counter(chosen[-100:])["thrifty"] >= 85


def test_pays_for_the_dearer_model_when_its_improvement_is_worth_the_price() -> None:
    bandit = ModelBandit([ModelWeight("cheap"), ModelWeight("dear")], random.Random(14))
    landscape = {"cheap": (0.05, 1.0, 0.001), "dear": (0.6, 4.0, 0.01)}  # dear: ~5x more per dollar
    late = Counter(simulate(bandit, landscape, 300, random.Random(15))[-100:])
    dear_spend = late["dear"] * 0.01
    assert dear_spend / (dear_spend + late["cheap"] * 0.001) >= 0.85
    assert late["dear"] >= 50


def test_every_model_gets_its_first_calls_before_any_is_written_off() -> None:
    models = [ModelWeight("a", 10.0), ModelWeight("b"), ModelWeight("c")]
    bandit = ModelBandit(models, random.Random(16), min_calls=3)
    first = []
    for _ in range(9):
        first.append(bandit.choose())
        bandit.update(first[-1], 0.0, 0.01)
    assert Counter(first) == {"a": 3, "b": 3, "c": 3}


def test_free_calls_are_compared_by_improvement_alone() -> None:
    bandit = ModelBandit([ModelWeight("good"), ModelWeight("poor")], random.Random(6))
    chosen = simulate(bandit, {"good": (0.6, 1.0, 0.0), "poor": (0.1, 1.0, 0.0)}, 300, random.Random(7))
    assert Counter(chosen[-100:])["good"] >= 80


def test_state_round_trips_through_json_and_resumes_the_same_choices() -> None:
    bandit = ModelBandit([ModelWeight("a", 2.0), ModelWeight("b")], random.Random(8))
    simulate(bandit, {"a": (0.3, 1.0, 0.01), "b": (0.5, 1.0, 0.01)}, 40, random.Random(9))
    state = bandit.state()
    restored_state = BanditState.from_json(state.to_json())
    assert restored_state == state
    assert sum(arm.pulls for arm in state.arms) == 40

    original = ModelBandit.from_state(state, random.Random(10))
    restored = ModelBandit.from_state(restored_state, random.Random(10))
    assert [original.choose() for _ in range(50)] == [restored.choose() for _ in range(50)]
    assert restored.posteriors() == original.posteriors()


def test_restoring_with_a_new_model_list_keeps_what_was_learned() -> None:
    bandit = ModelBandit([ModelWeight("a"), ModelWeight("b")], random.Random(11))
    bandit.update("a", 1.0, 0.01)
    resumed = ModelBandit.from_state(bandit.state(), models=[ModelWeight("a", 3.0), ModelWeight("c")])
    arms = {arm.model: arm for arm in resumed.state().arms}
    assert resumed.models == ["a", "c"]
    assert arms["a"].pulls == 1 and arms["a"].weight == 3.0
    assert arms["c"].pulls == 0


def test_bad_updates_are_refused() -> None:
    bandit = ModelBandit([ModelWeight("a")], random.Random(12))
    with pytest.raises(ValueError, match="not one of"):
        bandit.update("z", 1.0, 0.01)
    with pytest.raises(ValueError, match="non-negative"):
        bandit.update("a", 1.0, -0.01)
    with pytest.raises(ValueError, match="finite"):
        bandit.update("a", float("nan"), 0.01)
    assert bandit.state().arms[0].pulls == 0


def test_regressions_earn_nothing() -> None:
    bandit = ModelBandit([ModelWeight("a"), ModelWeight("b")], random.Random(13))
    bandit.update("a", -3.0, 0.5)
    assert bandit.state().arms[0].improvement_sum == 0.0
    assert bandit.state().arms[0].pulls == 1


def test_costs_are_floored_and_unknown_costs_are_pooled() -> None:
    bandit = ModelBandit([ModelWeight("free"), ModelWeight("paid"), ModelWeight("new")], epsilon_usd=0.001)
    bandit.update("free", 1.0, 0.0)
    bandit.update("paid", 1.0, 0.1)
    assert bandit.mean_costs_usd() == pytest.approx([0.001, 0.1, 0.05])


def test_a_bandit_needs_distinct_models() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ModelBandit([])
    with pytest.raises(ValueError, match="duplicate"):
        ModelBandit([ModelWeight("a"), ModelWeight("a")])
