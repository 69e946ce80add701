"""Config tuners: exhaustive walk for small spaces, seeded TPE for large ones."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import optuna
import pytest
from optuna.trial import TrialState

from agent.tuner import ExhaustiveTuner, OptunaTuner, make_tuner
from evaluator.types import EvalResult, Status
from kernels.config import Config, ConfigSpace, default_config, enumerate_space

SMALL: ConfigSpace = {"block": [64, 128, 256], "warps": [4, 8], "fast": [False, True]}
LARGE: ConfigSpace = {"a": list(range(8)), "b": list(range(8)), "c": list(range(8)), "d": [1, 2, 4, 8]}
TARGET = {"a": 5, "b": 2, "c": 6, "d": 4}


def large_latency(config: Config) -> float:
    """A known landscape over LARGE with a single optimum (10.0) at TARGET."""
    cfg = config.as_dict()
    return 10.0 + sum((cfg[k] - TARGET[k]) ** 2 for k in "abc") + 3 * abs(cfg["d"].bit_length() - 3)


def drain(
    tuner: ExhaustiveTuner | OptunaTuner,
    ok: Callable[..., EvalResult],
    latency: Callable[[Config], float] = lambda c: 1.0,
    limit: int = 10_000,
) -> list[Config]:
    """Ask until the tuner says it is done, telling each config its latency."""
    asked: list[Config] = []
    while (config := tuner.ask()) is not None:
        asked.append(config)
        tuner.tell(config, ok(latency(config)))
        assert len(asked) <= limit, "tuner never ran out"
    return asked


def test_make_tuner_picks_by_space_size() -> None:
    assert isinstance(make_tuner(SMALL), ExhaustiveTuner)  # 12 points
    assert isinstance(make_tuner(SMALL, exhaustive_limit=11), OptunaTuner)
    assert isinstance(make_tuner(LARGE), OptunaTuner)  # 2048 points


def test_exhaustive_walks_declaration_order_from_default_then_stops(ok_result) -> None:
    ok = ok_result
    tuner = ExhaustiveTuner(SMALL)
    asked = drain(tuner, ok)
    assert asked == list(enumerate_space(SMALL))
    assert asked[0] == default_config(SMALL)
    assert len(set(asked)) == 12
    assert tuner.ask() is None


def test_exhaustive_skips_configs_it_was_told_about(ok_result, failed_result) -> None:
    ok = ok_result
    failed = failed_result
    order = list(enumerate_space(SMALL))
    tuner = ExhaustiveTuner(SMALL)
    tuner.tell(order[0], ok(5.0))
    tuner.tell(order[3], failed(Status.COMPILE_ERROR))
    tuner.tell(Config.of({"block": 999}), ok(1.0))  # not in the space: harmless
    asked = drain(tuner, ok)
    assert asked == [c for i, c in enumerate(order) if i not in (0, 3)]


def test_exhaustive_space_without_knobs_has_one_point(ok_result) -> None:
    ok = ok_result
    tuner = ExhaustiveTuner({})
    assert drain(tuner, ok) == [Config()]


def test_optuna_asks_default_first_and_never_repeats_until_exhausted(ok_result) -> None:
    ok = ok_result
    space: ConfigSpace = {"x": list(range(6)), "y": list(range(6))}  # 36 points
    tuner = OptunaTuner(space, seed=3)
    asked = drain(tuner, ok, latency=lambda c: 1.0 + c.as_dict()["x"])
    assert asked[0] == default_config(space)
    assert len(asked) == 36
    assert set(asked) == set(enumerate_space(space))
    assert tuner.ask() is None


def test_optuna_is_reproducible_for_a_seed(ok_result) -> None:
    ok = ok_result

    def run(seed: int) -> list[Config]:
        tuner = OptunaTuner(LARGE, seed=seed)
        out = []
        for _ in range(25):
            config = tuner.ask()
            assert config is not None
            tuner.tell(config, ok(large_latency(config)))
            out.append(config)
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_optuna_beats_random_search_on_a_known_landscape(ok_result) -> None:
    """TPE finds the single optimum of 2048 configs within 80 evaluations; random search does not."""
    ok = ok_result
    budget, optimum, seeds = 80, 10.0, range(5)
    tpe_best, random_best = [], []
    for seed in seeds:
        tuner = OptunaTuner(LARGE, seed=seed)
        best = float("inf")
        for _ in range(budget):
            config = tuner.ask()
            assert config is not None
            best = min(best, large_latency(config))
            tuner.tell(config, ok(large_latency(config)))
        tpe_best.append(best)
        rng = random.Random(seed)
        points = [Config.of({k: rng.choice(v) for k, v in LARGE.items()}) for _ in range(budget)]
        random_best.append(min(large_latency(p) for p in points))
    tpe_hits = sum(b == optimum for b in tpe_best)
    random_hits = sum(b == optimum for b in random_best)
    assert tpe_hits >= 4, tpe_best
    assert tpe_hits >= random_hits + 3, (tpe_best, random_best)
    assert sum(tpe_best) < sum(random_best) - 5, (tpe_best, random_best)


def test_optuna_accepts_foreign_configs_and_never_asks_them(ok_result) -> None:
    ok = ok_result
    tuner = OptunaTuner(LARGE, seed=0)
    rng = random.Random(1)
    foreign = {default_config(LARGE)} | {
        Config.of({k: rng.choice(v) for k, v in LARGE.items()}) for _ in range(10)
    }
    for config in foreign:
        tuner.tell(config, ok(large_latency(config)))
    tuner.tell(Config.of({"a": 99, "b": 0, "c": 0, "d": 1}), ok(1.0))  # outside the space: ignored
    complete = [t for t in tuner.study.trials if t.state is TrialState.COMPLETE]
    assert len(complete) == len(foreign)
    assert tuner.study.best_value == pytest.approx(min(large_latency(c) for c in foreign))
    asked = [tuner.ask() for _ in range(40)]
    assert None not in asked
    assert not foreign & set(asked)
    assert len(set(asked)) == 40


def test_optuna_tells_failures_as_fail_and_moves_on(ok_result, failed_result) -> None:
    ok = ok_result
    failed = failed_result
    tuner = OptunaTuner(LARGE, seed=0)
    first = tuner.ask()
    assert first is not None
    tuner.tell(first, failed(Status.COMPILE_ERROR))
    tuner.tell(first, ok(1.0))  # told twice: the first verdict stands
    untimed = tuner.ask()
    assert untimed is not None
    tuner.tell(untimed, ok(1.0, interpreted=True))  # no latency: as good as a failure to TPE
    states = [t.state for t in tuner.study.trials]
    assert states == [TrialState.FAIL, TrialState.FAIL]
    assert tuner.ask() not in (first, untimed, None)


def test_optuna_gives_up_when_nothing_unseen_can_be_found(ok_result) -> None:
    ok = ok_result
    tuner = OptunaTuner({"x": [1, 2], "y": list(range(20))}, seed=0)  # 40 points
    for config in enumerate_space({"x": [1, 2], "y": list(range(20))}):
        tuner.tell(config, ok(1.0))
    assert tuner.ask() is None


@pytest.fixture
def optuna_info_logs():
    """Optuna at INFO with a handler that collects its records; restored afterwards."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.DEBUG)
    logger = logging.getLogger("optuna")
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    optuna.logging.set_verbosity(previous)


def test_optuna_logging_is_silenced_inside_the_tuner_only(optuna_info_logs, ok_result) -> None:
    ok = ok_result
    study = optuna.create_study()
    study.tell(study.ask(), 1.0)
    assert optuna_info_logs, "sanity: a bare study logs at INFO"
    optuna_info_logs.clear()
    tuner = OptunaTuner(LARGE, seed=0)
    drain_some = [tuner.ask() for _ in range(3)]
    for config in drain_some:
        assert config is not None
        tuner.tell(config, ok(large_latency(config)))
    assert [r.getMessage() for r in optuna_info_logs if r.levelno < logging.WARNING] == []
    assert optuna.logging.get_verbosity() == optuna.logging.INFO
