"""The store seen through the agent's RunRecorder protocol, for one run."""

from __future__ import annotations

from agent.descriptors import DESCRIPTOR_NAMES, describe
from agent.protocols import HistoryEntry
from evaluator.types import EvalResult
from kernels.candidate import Candidate
from store.repository import Store


class StoreRecorder:
    """Every candidate is stored before it runs and its result as soon as it lands."""

    def __init__(self, store: Store, run_id: int) -> None:
        self.store = store
        self.run_id = run_id
        self._ids_by_hash: dict[str, int] = {}

    def history(self) -> list[HistoryEntry]:
        entries = []
        for record in self.store.candidates(self.run_id):
            candidate = Candidate(
                record.source, record.config, record.family, record.origin, record.parent_hash
            )
            self._ids_by_hash[record.hash] = record.id
            entries.append(HistoryEntry(record.id, candidate, record.result))
        return entries

    def add(self, candidate: Candidate) -> int:
        parent_id = self._ids_by_hash.get(candidate.parent_hash) if candidate.parent_hash else None
        bins = describe(candidate.source)  # what the dashboard's archive grid is drawn from
        descriptor = {name: str(value) for name, value in zip(DESCRIPTOR_NAMES, bins.cell(), strict=True)}
        candidate_id = self.store.add_candidate(
            self.run_id, candidate, parent_id=parent_id, descriptor=descriptor
        )
        self._ids_by_hash[candidate.hash] = candidate_id
        return candidate_id

    def record(self, candidate_id: int, result: EvalResult) -> None:
        self.store.record_result(candidate_id, result)
