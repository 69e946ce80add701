"""Crucible's SQL store: runs, candidates and their verdicts, on SQLite or PostgreSQL.

``Store(url)`` is the entry point; it hands out frozen records (``RunRecord``, ``RunSummary``,
``CandidateRecord``), never ORM objects. Importing this package connects to nothing.
"""

from store.engine import make_engine, upgrade
from store.errors import CandidateNotFound, ResultAlreadyRecorded, RunNotFound, StoreError
from store.records import CandidateRecord, RunRecord, RunSummary
from store.repository import Store
from store.status import RunStatus

__all__ = [
    "CandidateNotFound",
    "CandidateRecord",
    "ResultAlreadyRecorded",
    "RunNotFound",
    "RunRecord",
    "RunStatus",
    "RunSummary",
    "Store",
    "StoreError",
    "make_engine",
    "upgrade",
]
