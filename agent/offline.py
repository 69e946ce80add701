"""The offline proposer: an autotuner over a problem's hand-written variant families.

It writes no new code. It takes the variant families kept beside a problem and tunes each
family's CONFIG_SPACE with a config tuner (an exhaustive walk for small spaces, seeded TPE
for large ones). It is what runs when no LLM is configured, and in the tests and the demo.

Families are served round-robin, so even a small budget tries every family once before
tuning any of them further. Two rules stop budget going where it cannot help:

* A family whose results come back ``interpreted`` (Triton under the CPU interpreter, where
  only correctness is checked and timings mean nothing) gets at most ``interpreted_cap``
  evaluations: tuning without timings is pointless. Until a family's first result says
  whether it runs interpreted, at most ``interpreted_cap`` of its candidates are in flight.
* A family whose default config fails to compile, is rejected or crashes is dropped after
  ``failure_limit`` such failures in a row: the fault is in its source, not its config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from agent.archive import Archive
from agent.tuner import EXHAUSTIVE_LIMIT, Tuner, make_tuner
from evaluator.types import EvalResult, Status
from kernels.candidate import Candidate, Origin, make_candidate, normalize_source
from kernels.config import default_config
from kernels.families import VariantFamily

STRUCTURAL_FAILURES = frozenset({Status.COMPILE_ERROR, Status.REJECTED, Status.CRASHED})


@dataclass
class _FamilyState:
    """What the proposer knows about one family (mutable bookkeeping, private)."""

    family: VariantFamily
    tuner: Tuner
    normalized: str
    in_flight: set[str] = field(default_factory=set)
    observed: int = 0
    interpreted: bool | None = None  # unknown until a result says
    default_failed: bool = False
    failure_streak: int = 0
    exhausted: bool = False
    dropped: bool = False


class OfflineProposer:
    """Round-robin autotuning over variant families; ``propose`` returns None when all are done."""

    name = "offline"

    def __init__(
        self,
        families: Sequence[VariantFamily],
        seed: int = 0,
        exhaustive_limit: int = EXHAUSTIVE_LIMIT,
        interpreted_cap: int = 2,
        failure_limit: int = 2,
        max_per_family: int | None = None,
    ) -> None:
        self._seed = seed
        self._exhaustive_limit = exhaustive_limit
        self._interpreted_cap = interpreted_cap
        self._failure_limit = failure_limit
        self._max_per_family = max_per_family
        self._states: list[_FamilyState] = []
        self._by_name: dict[str, _FamilyState] = {}
        self._cursor = 0
        for family in families:
            self.add_family(family)

    def add_family(self, family: VariantFamily) -> bool:
        """Tune one more family from now on (an LLM-written structure with a CONFIG_SPACE);
        False when a family of that name is already tuned."""
        if family.name in self._by_name:
            return False
        tuner = make_tuner(
            family.config_space, seed=self._seed + len(self._states), exhaustive_limit=self._exhaustive_limit
        )
        state = _FamilyState(family=family, tuner=tuner, normalized=normalize_source(family.source))
        self._states.append(state)
        self._by_name[family.name] = state
        return True

    @property
    def dropped(self) -> list[str]:
        """Families dropped because their source keeps failing."""
        return [s.family.name for s in self._states if s.dropped]

    def propose(self, archive: Archive) -> Candidate | None:
        """The next config of the next family in turn; None when no family can offer one now."""
        if not self._states:
            return None
        for step in range(len(self._states)):
            state = self._states[(self._cursor + step) % len(self._states)]
            if not self._may_propose(state):
                continue
            config = state.tuner.ask()
            if config is None:
                state.exhausted = True
                continue
            self._cursor = (self._cursor + step + 1) % len(self._states)
            candidate = make_candidate(
                state.family.source, config.as_dict(), family=state.family.name, origin=Origin.OFFLINE
            )
            state.in_flight.add(candidate.hash)
            return candidate
        return None

    def observe(self, candidate: Candidate, result: EvalResult) -> None:
        """Tell the family's tuner; ignores candidates that are not from one of our families."""
        state = self._by_name.get(candidate.family)
        if state is None or normalize_source(candidate.source) != state.normalized:
            return
        state.in_flight.discard(candidate.hash)
        state.observed += 1
        state.tuner.tell(candidate.config, result)
        if result.interpreted:
            state.interpreted = True
        elif result.ok and state.interpreted is None:
            state.interpreted = False
        if result.status in STRUCTURAL_FAILURES:
            state.failure_streak += 1
            if candidate.config == default_config(state.family.config_space):
                state.default_failed = True
        else:
            state.failure_streak = 0
        if state.default_failed and state.failure_streak >= self._failure_limit:
            state.dropped = True

    def _may_propose(self, state: _FamilyState) -> bool:
        if state.exhausted or state.dropped:
            return False
        if self._max_per_family is not None and state.observed + len(state.in_flight) >= self._max_per_family:
            return False
        if state.interpreted is True:
            return state.observed + len(state.in_flight) < self._interpreted_cap
        if state.interpreted is None:
            return len(state.in_flight) < self._interpreted_cap
        return True
