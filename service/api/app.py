"""The FastAPI app: ``create_app(settings, store)``, and ``factory`` for uvicorn.

``uvicorn service.api.app:factory --factory`` serves the API with the environment's settings
(``CRUCIBLE_DATABASE_URL``, ``CRUCIBLE_API_TOKEN``...). The routes:

| route | what | codes |
|---|---|---|
| ``GET /healthz`` | the server is up; the one route without a token | 200 |
| ``GET /openapi.json`` | the OpenAPI schema | 200, 401 |
| ``GET /metrics`` | Prometheus text (``service.api.metrics``) | 200, 401 |
| ``POST /api/v1/runs`` | queue a run (``RunCreateIn``) | 201, 401, 413, 422 |
| ``GET /api/v1/runs`` | a page of runs (``limit`` 1..200, ``offset``, filters) | 200, 401, 422 |
| ``GET /api/v1/runs/{id}`` | one run's progress (``RunStateOut``) | 200, 401, 404, 422 |
| ``GET /api/v1/runs/{id}/candidates`` | a page of its candidates | 200, 401, 404, 422 |
| ``GET /api/v1/runs/{id}/pareto`` | its Pareto front | 200, 401, 404, 422 |
| ``POST /api/v1/runs/{id}/cancel`` | cancel it; the run after | 200, 401, 404, 422 |
| ``GET /api/v1/candidates/{id}`` | one candidate with its source | 200, 401, 404, 422 |
| ``GET /api/v1/candidates/{id}/export`` | the exported kernel as a zip | 200, 401, 404, 422 |
| ``GET /api/v1/problems`` | built-in and uploaded problems | 200, 401 |
| ``POST /api/v1/problems`` | upload a problem file | 201, 200, 401, 409, 413, 422, 429 |

Authentication is in ``service.api.auth`` (a bearer token; loopback only when none is set),
errors in ``service.api.errors`` (always ``{"error": ...}``), body limits in
``service.api.bodies``. Responses are strict JSON: a non-finite number (a relative error of
inf where the reference is zero) is ``null`` here, where ``--json`` prints ``Infinity``.
The run list filters on ``status``, ``problem`` and ``device``. The routes are plain
functions, run in the server's thread pool; the store is thread-safe.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from service.api import candidates, metrics, problems, runs
from service.api.auth import require_token
from service.api.bodies import BodyLimit
from service.api.catalog import ProblemCatalog
from service.api.errors import install_handlers
from service.api.state import ApiLimits, ApiState
from service.api.uploads import ProblemUploads, uploads_directory
from service.exporting import crucible_version
from service.schemas import HealthOut
from service.settings import Settings
from store.repository import Store


def create_app(settings: Settings, store: Store | None = None, *, limits: ApiLimits | None = None) -> FastAPI:
    """The API over ``store`` (opened from ``settings.database_url`` when None, and then closed
    when the app shuts down; a store handed in stays the caller's to close)."""
    limits = limits or ApiLimits()
    owned = store is None
    opened = store if store is not None else Store(settings.database_url)
    uploads = ProblemUploads(
        uploads_directory(settings), timeout_s=limits.upload_timeout_s, max_parallel=limits.parallel_uploads
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            opened.close()

    app = FastAPI(
        title="Crucible",
        version=crucible_version(),
        description=(
            "LLM-driven GPU kernel optimization. Every route but /healthz needs "
            '`Authorization: Bearer <CRUCIBLE_API_TOKEN>`; errors are `{"error": ...}`.'
        ),
        lifespan=lifespan,
        openapi_url=None,  # served below, behind the token
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = ApiState(
        settings=settings,
        store=opened,
        catalog=ProblemCatalog(uploads),
        limits=limits,
        registry=metrics.metrics_registry(opened),
    )
    install_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)

    @app.get("/healthz", response_model=HealthOut, tags=["health"])
    def healthz() -> HealthOut:
        """The server is up. Needs no token, and checks nothing else."""
        return HealthOut(status="ok")

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_token)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    for module in (runs, candidates, problems, metrics):
        app.include_router(module.router)
    return app


def factory() -> FastAPI:
    """For ``uvicorn service.api.app:factory --factory``: the app with the environment's settings."""
    return create_app(Settings())
