"""What every tool of one server shares: the settings, the store, the problems, the evaluations."""

from __future__ import annotations

from dataclasses import dataclass

from service.mcp.evaluation import CandidateEvaluations
from service.mcp.problems import ProblemResolver
from service.settings import Settings
from store.repository import Store


@dataclass(frozen=True)
class McpState:
    settings: Settings
    store: Store  # opened (and migrated) by whoever serves, closed by it too
    problems: ProblemResolver
    evaluations: CandidateEvaluations

    @classmethod
    def open(cls, settings: Settings, store: Store) -> McpState:
        problems = ProblemResolver(settings)
        return cls(settings, store, problems, CandidateEvaluations(settings, problems))
