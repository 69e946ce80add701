"""The JSON documents Crucible hands out: ``--json``, the HTTP API and the dashboard share these models.

Each model is frozen and forbids keys it does not declare, so a document either means what its
schema says or fails to validate. Units are in the field names, as the store has them (``_us``,
``_bytes``, ``_gbps``, ``_s``). The ``from_*`` constructors build a document from the domain
values (evaluator results, store records, loaded problems); ``JSON_DOCUMENTS`` names the
top-level ones and ``json_schemas`` gives every model's JSON schema, for the API to serve;
``service.schemas.api`` adds the HTTP API's request bodies and pages.

Torch-free and light: the runtime imports are the evaluator's shared value types, the store's
status enum and the kernels' candidate and problem types; everything else is for type checking.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from service.schemas.api import (
    CandidatePageOut,
    HealthOut,
    ParetoOut,
    ProblemUploadIn,
    RunCreateIn,
    RunPageOut,
    RunStateOut,
)
from service.schemas.base import Document
from service.schemas.batch import BatchOut, ProblemOutcomeOut
from service.schemas.machine import (
    DeviceOut,
    DevicePeakOut,
    ErrorOut,
    MachineOut,
    ProblemListOut,
    ProblemOut,
    ProblemShapeOut,
    ProfilersOut,
    SandboxOut,
)
from service.schemas.results import DeviceInfoOut, EvalResultOut, EvaluateOut, ShapeMetricsOut
from service.schemas.runs import (
    CandidateDetailOut,
    CandidateOut,
    ExportedPathsOut,
    ExportOut,
    LLMUsageOut,
    OptimizeReportOut,
    RunDetailOut,
    RunListOut,
    RunOut,
    RunSummaryOut,
)

__all__ = [
    "JSON_DOCUMENTS",
    "MODELS",
    "BatchOut",
    "CandidateDetailOut",
    "CandidateOut",
    "CandidatePageOut",
    "DeviceInfoOut",
    "DeviceOut",
    "DevicePeakOut",
    "Document",
    "ErrorOut",
    "EvalResultOut",
    "EvaluateOut",
    "ExportOut",
    "ExportedPathsOut",
    "HealthOut",
    "LLMUsageOut",
    "MachineOut",
    "OptimizeReportOut",
    "ParetoOut",
    "ProblemListOut",
    "ProblemOut",
    "ProblemOutcomeOut",
    "ProblemShapeOut",
    "ProblemUploadIn",
    "ProfilersOut",
    "RunCreateIn",
    "RunDetailOut",
    "RunListOut",
    "RunOut",
    "RunPageOut",
    "RunStateOut",
    "RunSummaryOut",
    "SandboxOut",
    "ShapeMetricsOut",
    "json_schemas",
]

# The documents commands print, by command; every model in this module is reachable from one.
JSON_DOCUMENTS: dict[str, type[BaseModel]] = {
    "problems": ProblemListOut,
    "problems PATH": ProblemOut,
    "evaluate": EvaluateOut,
    "evaluate DIR CANDIDATES_DIR": BatchOut,
    "optimize DIR": BatchOut,
    "optimize": OptimizeReportOut,
    "devices": MachineOut,
    "runs": RunListOut,
    "show": RunDetailOut,
    "export": ExportOut,
    "error": ErrorOut,
}

MODELS: tuple[type[BaseModel], ...] = (
    DeviceInfoOut,
    ShapeMetricsOut,
    EvalResultOut,
    EvaluateOut,
    CandidateOut,
    CandidateDetailOut,
    RunSummaryOut,
    RunListOut,
    RunOut,
    RunDetailOut,
    ExportedPathsOut,
    ExportOut,
    LLMUsageOut,
    OptimizeReportOut,
    ProblemShapeOut,
    ProblemOut,
    ProblemListOut,
    DevicePeakOut,
    DeviceOut,
    SandboxOut,
    ProfilersOut,
    MachineOut,
    ErrorOut,
    ProblemOutcomeOut,
    BatchOut,
    # The HTTP API's request bodies and pages (service.api).
    RunCreateIn,
    ProblemUploadIn,
    RunStateOut,
    RunPageOut,
    CandidatePageOut,
    ParetoOut,
    HealthOut,
)


def json_schemas() -> dict[str, dict[str, Any]]:
    """Every model's JSON schema (serialization side: what a reader of the documents receives)."""
    return {model.__name__: model.model_json_schema(mode="serialization") for model in MODELS}
