"""Choosing the model for the next call by what each has earned per dollar so far.

Fixed weights would keep paying for a model that never helps. ``ModelBandit`` instead runs
Thompson sampling on each model's improvement per dollar, estimated as its mean
improvement per call divided by its mean cost per call (floored at ``epsilon_usd``):

* Each model's configured weight is its prior. Until every model has had ``min_calls``
  calls, choices are drawn in proportion to the weights among those still short of it, and
  ``explore_share`` of later choices are drawn that way too: rewards are heavy-tailed (most
  calls improve nothing), so a model must not be written off on one unlucky call, and a
  model that starts helping later must still be noticed.
* Improvement per call is what is uncertain, and it is in the same units for every model,
  so it gets a Gaussian posterior in units of the pooled mean improvement; the prior mean is
  weight / mean weight, worth ``prior_strength`` observations. One sample per model is
  divided by that model's mean cost, and the largest wins. Cost per call is nearly fixed and
  quickly known; a model not yet called is assumed to cost the pooled mean.
* A ratio of means, not a mean of per-call ratios: a per-call ``improvement / cost`` explodes
  on free or cached calls and is too heavy-tailed to learn from in a few hundred calls.

Improvements below zero count as zero (a worse or failed candidate earns nothing). The state
is a frozen dataclass of sums that serializes to JSON, so a resumed run restores what it had
learned; the random generator is the caller's, so a resumed run passes its own.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from agent.llm.models import ModelWeight

DEFAULT_PRIOR_STRENGTH = 2.0
DEFAULT_EPSILON_USD = 1e-4  # a hundredth of a cent: below that, calls count as equally cheap
DEFAULT_MIN_CALLS = 3
DEFAULT_EXPLORE_SHARE = 0.05


@dataclass(frozen=True)
class ArmState:
    """What is known about one model: its prior weight and sums over its observed calls."""

    model: str
    weight: float
    pulls: int = 0
    improvement_sum: float = 0.0
    improvement_sq_sum: float = 0.0
    cost_usd_sum: float = 0.0


@dataclass(frozen=True)
class BanditState:
    """Everything a ``ModelBandit`` needs to carry on where it stopped."""

    arms: tuple[ArmState, ...]
    prior_strength: float = DEFAULT_PRIOR_STRENGTH
    epsilon_usd: float = DEFAULT_EPSILON_USD
    min_calls: int = DEFAULT_MIN_CALLS
    explore_share: float = DEFAULT_EXPLORE_SHARE

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BanditState:
        data: dict[str, Any] = json.loads(text)
        arms = tuple(ArmState(**arm) for arm in data.pop("arms"))
        return cls(arms=arms, **data)


class ModelBandit:
    """Picks a model per call and learns from the improvement and cost that call brought."""

    def __init__(
        self,
        models: Sequence[ModelWeight],
        rng: random.Random | None = None,
        *,
        prior_strength: float = DEFAULT_PRIOR_STRENGTH,
        epsilon_usd: float = DEFAULT_EPSILON_USD,
        min_calls: int = DEFAULT_MIN_CALLS,
        explore_share: float = DEFAULT_EXPLORE_SHARE,
    ) -> None:
        if not models:
            raise ValueError("a model bandit needs at least one model")
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate model names in {names}")
        if prior_strength <= 0 or epsilon_usd <= 0:
            raise ValueError("prior_strength and epsilon_usd must be positive")
        if min_calls < 0 or not 0 <= explore_share < 1:
            raise ValueError("min_calls must be >= 0 and explore_share in [0, 1)")
        self._arms = [ArmState(m.name, m.weight) for m in models]
        self._rng = rng if rng is not None else random.Random(0)
        self._prior_strength = prior_strength
        self._epsilon_usd = epsilon_usd
        self._min_calls = min_calls
        self._explore_share = explore_share

    @classmethod
    def from_state(
        cls,
        state: BanditState,
        rng: random.Random | None = None,
        *,
        models: Sequence[ModelWeight] | None = None,
    ) -> ModelBandit:
        """Restore a bandit; with ``models``, adopt that list (new weights, new models start fresh)."""
        known = {arm.model: arm for arm in state.arms}
        listed = models if models is not None else [ModelWeight(a.model, a.weight) for a in state.arms]
        bandit = cls(
            listed,
            rng,
            prior_strength=state.prior_strength,
            epsilon_usd=state.epsilon_usd,
            min_calls=state.min_calls,
            explore_share=state.explore_share,
        )
        bandit._arms = [
            replace(known[arm.model], weight=arm.weight) if arm.model in known else arm
            for arm in bandit._arms
        ]
        return bandit

    @property
    def models(self) -> list[str]:
        return [arm.model for arm in self._arms]

    def state(self) -> BanditState:
        return BanditState(
            tuple(self._arms), self._prior_strength, self._epsilon_usd, self._min_calls, self._explore_share
        )

    def update(self, model: str, improvement: float, cost_usd: float) -> None:
        """Record what one call to ``model`` brought (clamped at zero) and what it cost."""
        if not math.isfinite(improvement) or not math.isfinite(cost_usd):
            raise ValueError(f"improvement and cost must be finite, got {improvement}, {cost_usd}")
        if cost_usd < 0:
            raise ValueError(f"cost must be non-negative, got {cost_usd}")
        index = self._index(model)
        gain = max(improvement, 0.0)
        arm = self._arms[index]
        self._arms[index] = replace(
            arm,
            pulls=arm.pulls + 1,
            improvement_sum=arm.improvement_sum + gain,
            improvement_sq_sum=arm.improvement_sq_sum + gain * gain,
            cost_usd_sum=arm.cost_usd_sum + cost_usd,
        )

    def choose(self) -> str:
        """The model for the next call."""
        warming = [arm for arm in self._arms if arm.pulls < self._min_calls]
        if warming:
            return self._by_weight(warming)
        if self._rng.random() < self._explore_share:
            return self._by_weight(self._arms)
        costs = self.mean_costs_usd()
        values = [
            (mean + sd * self._rng.gauss(0.0, 1.0)) / cost
            for (mean, sd), cost in zip(self.posteriors(), costs, strict=True)
        ]
        return self._arms[max(range(len(values)), key=values.__getitem__)].model

    def mean_costs_usd(self) -> list[float]:
        """Per model, in order: mean cost per call, the pooled mean if never called, floored at epsilon."""
        total = sum(arm.pulls for arm in self._arms)
        pooled = sum(arm.cost_usd_sum for arm in self._arms) / total if total else 0.0
        return [
            max(arm.cost_usd_sum / arm.pulls if arm.pulls else pooled, self._epsilon_usd)
            for arm in self._arms
        ]

    def posteriors(self) -> list[tuple[float, float]]:
        """Per model, in order: posterior mean and sd of improvement per call, in pooled-mean units."""
        total = sum(arm.pulls for arm in self._arms)
        k0 = self._prior_strength
        pooled_sum = sum(arm.improvement_sum for arm in self._arms)
        scale = pooled_sum / total if total and pooled_sum > 0 else 1.0
        noise_var = 1.0  # prior: improvements spread about as widely as their mean
        if total:
            mean = pooled_sum / scale / total
            sq_sum = sum(arm.improvement_sq_sum for arm in self._arms) / scale**2
            noise_var = (k0 * noise_var + total * max(sq_sum / total - mean**2, 0.0)) / (k0 + total)
        mean_weight = sum(arm.weight for arm in self._arms) / len(self._arms)
        result = []
        for arm in self._arms:
            mu = (k0 * arm.weight / mean_weight + arm.improvement_sum / scale) / (k0 + arm.pulls)
            result.append((mu, math.sqrt(noise_var / (k0 + arm.pulls))))
        return result

    def _by_weight(self, arms: Sequence[ArmState]) -> str:
        return self._rng.choices([a.model for a in arms], weights=[a.weight for a in arms])[0]

    def _index(self, model: str) -> int:
        for index, arm in enumerate(self._arms):
            if arm.model == model:
                return index
        raise ValueError(f"model {model!r} is not one of {self.models}")
