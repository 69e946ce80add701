"""Config tuners: pick the next point of one CONFIG_SPACE to evaluate, with ask/tell.

Small spaces are walked exhaustively, in declaration order from the author's default,
because evaluating everything is both optimal and cheap. Large spaces use Optuna's TPE
sampler, seeded so a run is reproducible. Both accept results for configs they never
asked for (history replayed on resume, or an LLM's chosen config) and never hand out a
config they have already asked for or been told about.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.trial import TrialState

from evaluator.types import EvalResult
from kernels.config import Config, ConfigSpace, enumerate_space, space_size

EXHAUSTIVE_LIMIT = 32
RANDOM_RETRIES = 64
ASK_ATTEMPTS = 3
ENUMERATE_LIMIT = 100_000


class Tuner(Protocol):
    """Ask for a config, evaluate it, tell the result. ``ask`` returns None when done."""

    def ask(self) -> Config | None: ...

    def tell(self, config: Config, result: EvalResult) -> None: ...


def make_tuner(space: ConfigSpace, *, seed: int = 0, exhaustive_limit: int = EXHAUSTIVE_LIMIT) -> Tuner:
    """An exhaustive walk for spaces of at most ``exhaustive_limit`` points, else TPE."""
    if space_size(space) <= exhaustive_limit:
        return ExhaustiveTuner(space)
    return OptunaTuner(space, seed=seed)


class ExhaustiveTuner:
    """Every config once, in ``enumerate_space`` order (the default config first)."""

    def __init__(self, space: ConfigSpace) -> None:
        self._walk = enumerate_space(space)
        self._seen: set[Config] = set()

    def ask(self) -> Config | None:
        for config in self._walk:
            if config not in self._seen:
                self._seen.add(config)
                return config
        return None

    def tell(self, config: Config, result: EvalResult) -> None:
        self._seen.add(config)


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Silence Optuna's per-trial INFO logs for the duration of a call, then restore them."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


class OptunaTuner:
    """TPE over a categorical space, minimizing ``EvalResult.latency_us``.

    The default config is asked first, as a baseline. Results without a latency (failed,
    or untimed under the interpreter) are told as FAIL, so TPE learns nothing false from
    them. TPE on a categorical space often suggests a config it has already tried; that
    trial is closed as FAIL and the nearest unseen config is asked instead (one knob moved
    to the closest listed value, ties broken by a seeded RNG), which keeps exploiting the
    region TPE likes. ``ask`` returns None once every config has been seen, or gives up
    when no unseen config can be found near the suggestion or by random draws.
    """

    def __init__(self, space: ConfigSpace, *, seed: int = 0) -> None:
        self._space = {key: list(values) for key, values in space.items()}
        self._size = space_size(space)
        self._rng = random.Random(seed)
        self._distributions: dict[str, BaseDistribution] = {
            key: CategoricalDistribution(values) for key, values in self._space.items()
        }
        self._seen: set[Config] = set()
        self._open: dict[Config, int] = {}  # asked, not yet told: config -> trial number
        with _quiet_optuna():
            self._study = optuna.create_study(
                direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed)
            )
            self._study.enqueue_trial({key: values[0] for key, values in self._space.items()})

    @property
    def study(self) -> optuna.Study:
        """The underlying study, for inspection (trials, best value)."""
        return self._study

    @property
    def seen(self) -> int:
        """How many distinct configs have been asked or told."""
        return len(self._seen)

    def ask(self) -> Config | None:
        if len(self._seen) >= self._size:
            return None
        with _quiet_optuna():
            for _ in range(ASK_ATTEMPTS):
                trial = self._study.ask(self._distributions)
                config = Config.of(trial.params)
                if config not in self._seen:
                    self._seen.add(config)
                    self._open[config] = trial.number
                    return config
                self._study.tell(trial, state=TrialState.FAIL)
                replacement = self._nearest_unseen(config) or self._random_unseen()
                if replacement is None:
                    break
                self._study.enqueue_trial(replacement.as_dict())
        return None

    def tell(self, config: Config, result: EvalResult) -> None:
        latency = result.latency_us
        with _quiet_optuna():
            if config in self._open:
                number = self._open.pop(config)
                if latency is None:
                    self._study.tell(number, state=TrialState.FAIL)
                else:
                    self._study.tell(number, latency)
                return
            if config in self._seen or not self._in_space(config):
                return  # told twice, or not a point of this space: nothing to learn
            self._seen.add(config)
            self._study.add_trial(
                optuna.trial.create_trial(
                    params=config.as_dict(),
                    distributions=self._distributions,
                    value=latency,
                    state=TrialState.FAIL if latency is None else TrialState.COMPLETE,
                )
            )

    def _in_space(self, config: Config) -> bool:
        values = config.as_dict()
        return set(values) == set(self._space) and all(values[k] in self._space[k] for k in self._space)

    def _nearest_unseen(self, config: Config) -> Config | None:
        """An unseen config one knob away, moving the knob as little as possible."""
        values = config.as_dict()
        moves: list[tuple[int, float, Config]] = []
        for key, choices in self._space.items():
            here = choices.index(values[key])
            for index, choice in enumerate(choices):
                neighbour = Config.of(values | {key: choice})
                if index != here and neighbour not in self._seen:
                    moves.append((abs(index - here), self._rng.random(), neighbour))
        return min(moves, key=lambda m: m[:2])[2] if moves else None

    def _random_unseen(self) -> Config | None:
        for _ in range(RANDOM_RETRIES):
            config = Config.of({key: self._rng.choice(values) for key, values in self._space.items()})
            if config not in self._seen:
                return config
        if self._size > ENUMERATE_LIMIT:
            return None
        unseen = [c for c in enumerate_space(self._space) if c not in self._seen]
        return self._rng.choice(unseen) if unseen else None
