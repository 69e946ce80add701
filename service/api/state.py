"""What every route of one app shares: settings, store, problems, limits, metrics (``app.state.api``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from prometheus_client import CollectorRegistry

from service.api.catalog import ProblemCatalog
from service.settings import Settings
from store.repository import Store


@dataclass(frozen=True)
class ApiLimits:
    """The bounds of one app: request bodies, and the validation of uploaded problem files."""

    max_body_bytes: int = 2 * 1024 * 1024  # larger bodies get 413 before they are parsed
    upload_timeout_s: float = 60.0  # wall clock for loading one uploaded problem file
    parallel_uploads: int = 2  # validations at once; more get 429


@dataclass(frozen=True)
class ApiState:
    settings: Settings
    store: Store
    catalog: ProblemCatalog  # the built-ins and the uploads
    limits: ApiLimits
    registry: CollectorRegistry  # this app's metrics, and no other's


def api_state(request: Request) -> ApiState:
    """The app's shared state, as a FastAPI dependency."""
    state: ApiState = request.app.state.api
    return state
