"""Store errors: part of Crucible's hierarchy so the CLI and API can report them plainly."""

from __future__ import annotations

from kernels.errors import CrucibleError


class StoreError(CrucibleError):
    """Something the store refuses to do, with a message a user can act on."""


class RunNotFound(StoreError):
    """A run id that is not in the database."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"run {run_id} does not exist in the store; `crucible runs` lists the known runs")
        self.run_id = run_id


class CandidateNotFound(StoreError):
    """A candidate id that is not in the database."""

    def __init__(self, candidate_id: int) -> None:
        super().__init__(f"candidate {candidate_id} does not exist in the store")
        self.candidate_id = candidate_id


class ResultAlreadyRecorded(StoreError):
    """A second verdict for one candidate: each identity is evaluated once per run."""

    def __init__(self, candidate_id: int, status: str) -> None:
        super().__init__(
            f"candidate {candidate_id} already has a verdict ({status}); a candidate is never evaluated twice"
        )
        self.candidate_id = candidate_id
