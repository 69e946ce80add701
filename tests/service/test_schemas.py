"""The JSON documents: one frozen model each, the same keys and values as the domain types give, a
JSON schema per model, and every ``--json`` command's output valid against its model."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from pydantic import BaseModel, RootModel, ValidationError

from evaluator.hardware.devices import DeviceSpec
from evaluator.profiling.roofline import DevicePeak
from evaluator.sandbox.isolation import Isolation
from evaluator.types import DeviceInfo, EvalResult, Profile, ShapeMetrics, Stage, Status
from kernels.candidate import Language, Origin
from kernels.config import Config, ConfigValue
from kernels.export import ExportedFiles
from kernels.problem import load_problem
from service import schemas
from service.schemas import (
    JSON_DOCUMENTS,
    MODELS,
    CandidateDetailOut,
    CandidateOut,
    DeviceInfoOut,
    ErrorOut,
    EvalResultOut,
    EvaluateOut,
    ExportOut,
    MachineOut,
    OptimizeReportOut,
    ProblemListOut,
    ProblemOut,
    RunDetailOut,
    RunListOut,
    RunSummaryOut,
    ShapeMetricsOut,
)
from store.records import CandidateRecord, RunRecord, RunSummary
from store.status import RunStatus

REPO = Path(__file__).resolve().parents[2]
M = TypeVar("M", bound=BaseModel)


class Output(Protocol):
    """What the ``crucible`` fixture (tests/service/conftest.py) returns for one command."""

    code: int
    stdout: str
    stderr: str


Run = Callable[..., Output]
CREATED = datetime(2025, 3, 1, 12, 30, 5, 123456, tzinfo=timezone.utc)
DEVICE = DeviceInfo("cuda:0", "cuda", "NVIDIA H100", "550.54", "2.5.1", "3.1.0", {"capability": "9.0"})
RESULT = EvalResult(
    Status.OK,
    Stage.DONE,
    "matches the reference",
    (
        ShapeMetrics("small", 8.5, 0.25, 400, 1e-7, 2e-6, 4096, 17.0, 0.5, 2.0, 1200.0, None, 0.36),
        ShapeMetrics(
            "big", 100.0, 2.0, 50, 0.0, float("inf"), 1 << 30, 150.0, 3.0, 1.5, timing_method="graph"
        ),
    ),
    device=DEVICE,
    duration_s=4.56789,
    profile=Profile(summary="1 kernel; memory-bound"),
    phase_seconds={"start": 1.25, "timing": 2.5},
)
FAILED = EvalResult(Status.WRONG_OUTPUT, Stage.CORRECTNESS, "max abs err 3.1 on shape small")


def record(
    id_: int, result: EvalResult | None, config: dict[str, ConfigValue] | None = None
) -> CandidateRecord:
    return CandidateRecord(
        id=id_,
        run_id=7,
        hash=f"{id_:016x}",
        family="triton_online",
        origin=Origin.LLM,
        language=Language.TRITON,
        parent_id=None if id_ == 1 else 1,
        source="import torch\n",
        config=Config.of(config or {"BLOCK": 1024, "fused": True, "scale": 0.5}),
        created_at=CREATED,
        result=result,
    )


RUN = RunRecord(
    id=7,
    problem_name="softmax",
    problem_path=Path("/problems/softmax.py"),
    problem_source="",
    overrides={"rows": 64},
    device="cuda:0",
    proposer="llm",
    budget=24,
    seed=1,
    status=RunStatus.COMPLETED,
    options={},
    error=None,
    created_at=CREATED,
    updated_at=CREATED,
    started_at=CREATED,
    finished_at=None,
    limits={"trials": 3, "warmup_ms": 5.0, "reverify": True, "timing_method": "auto"},
)
CANDIDATES = [record(1, RESULT), record(2, FAILED), record(3, None)]


def as_json(document: BaseModel) -> str:
    return json.dumps(document.model_dump(mode="json"), indent=2)


def round_trips(document: BaseModel) -> None:
    """Validating the printed document gives back an equal model, which prints the same text."""
    text = as_json(document)
    again = type(document).model_validate_json(text)
    assert again == document
    assert as_json(again) == text


def test_every_model_is_frozen_strict_described_and_has_a_json_schema() -> None:
    defined = {
        obj
        for obj in vars(schemas).values()
        if isinstance(obj, type)
        and issubclass(obj, BaseModel)
        and obj.__module__.startswith(f"{schemas.__name__}.")  # defined in one of the package's modules
        and not obj.__pydantic_generic_metadata__["origin"]  # not the RootModel[...] bases
    }
    assert defined - {schemas.Document} == set(MODELS), "MODELS lists every model of the package"
    assert set(JSON_DOCUMENTS.values()) <= set(MODELS)
    published = schemas.json_schemas()
    assert set(published) == {m.__name__ for m in MODELS}
    for model in MODELS:
        assert model.model_config.get("frozen") is True, model
        schema = published[model.__name__]
        json.dumps(schema)  # JSON all the way down, as the API will serve it
        assert schema.get("description"), f"{model.__name__} has no docstring"
        if issubclass(model, RootModel):  # the list documents
            assert schema["type"] == "array" and "$ref" in schema["items"]
            continue
        assert set(schema["properties"]) == set(model.model_fields)
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{model.__name__}.{name} has no description"
    status = published["CandidateOut"]["properties"]["status"]
    assert "pending" in json.dumps(status) and "wrong_output" in json.dumps(published["CandidateOut"])


def test_documents_are_frozen_and_refuse_unknown_keys() -> None:
    doc = CandidateOut.from_record(CANDIDATES[0])
    with pytest.raises(ValidationError):
        doc.family = "other"
    data = doc.model_dump(mode="json") | {"surprise": 1}
    with pytest.raises(ValidationError, match="surprise"):
        CandidateOut.model_validate_json(json.dumps(data))


def test_the_result_document_is_what_the_result_says_about_itself() -> None:
    for result in (RESULT, FAILED):
        doc = EvalResultOut.from_result(result)
        assert as_json(doc) == json.dumps(result.to_dict(), indent=2)
        round_trips(doc)
    assert [f.name for f in fields(ShapeMetrics)] == list(ShapeMetricsOut.model_fields)
    assert [f.name for f in fields(DeviceInfo)] == list(DeviceInfoOut.model_fields)
    dumped = EvalResultOut.from_result(RESULT).model_dump(mode="json")
    assert dumped["profile"]["summary"] == "1 kernel; memory-bound"
    assert dumped["duration_s"] == 4.568 and dumped["shapes"][1]["max_rel_err"] == float("inf")


def test_candidates_keep_their_keys_and_types_verdict_or_not() -> None:
    done, failed, pending = (CandidateOut.from_record(c).model_dump(mode="json") for c in CANDIDATES)
    assert list(done) == [
        "candidate_id",
        "run_id",
        "hash",
        "family",
        "origin",
        "language",
        "parent_id",
        "config",
        "status",
        "speedup",
        "latency_us",
        "max_abs_err",
        "peak_mem_bytes",
        "result",
    ]
    assert done["config"] == {"BLOCK": 1024, "fused": True, "scale": 0.5}
    assert type(done["config"]["fused"]) is bool and type(done["config"]["BLOCK"]) is int
    assert done["status"] == "ok" and done["origin"] == "llm" and done["language"] == "triton"
    assert done["speedup"] == pytest.approx(RESULT.speedup) and done["latency_us"] == RESULT.latency_us
    assert done["max_abs_err"] == 1e-7 and done["peak_mem_bytes"] == 1 << 30
    assert failed["status"] == "wrong_output" and failed["speedup"] is None and failed["result"]
    assert pending["status"] == "pending" and pending["result"] is None and pending["max_abs_err"] is None
    for c in CANDIDATES:
        round_trips(CandidateOut.from_record(c))
        detail = CandidateDetailOut.from_record(c)
        assert detail.source == c.source and "source" not in CandidateOut.model_fields
        round_trips(detail)


def test_run_documents_keep_times_as_isoformat_wrote_them() -> None:
    detail = RunDetailOut.from_records(RUN, CANDIDATES, CANDIDATES[:1], CANDIDATES[0])
    dumped = detail.model_dump(mode="json")
    assert dumped["created_at"] == "2025-03-01T12:30:05.123456+00:00" and dumped["finished_at"] is None
    assert dumped["status"] == "completed" and dumped["limits"] == RUN.limits
    assert list(dumped)[-3:] == ["best", "pareto", "candidates"]
    assert dumped["best"]["candidate_id"] == 1 and len(dumped["candidates"]) == 3
    round_trips(detail)
    naive = RunSummary(
        7, "softmax", RunStatus.RUNNING, "cpu", "offline", 24, 3, 1, None, datetime(2025, 1, 2)
    )
    summary = RunSummaryOut.from_record(naive)
    assert summary.model_dump(mode="json")["created_at"] == "2025-01-02T00:00:00"
    round_trips(summary)


def test_the_optimize_report_names_its_export() -> None:
    files = ExportedFiles(Path("/out"), Path("/out/k.py"), Path("/out/ref.py"), Path("/out/test_k.py"))
    report = OptimizeReportOut.from_run(
        RUN, evaluated=3, stopped="budget", best=CANDIDATES[0], pareto=CANDIDATES[:1], exported=files
    )
    dumped = report.model_dump(mode="json")
    assert dumped["export"] == {"module": "/out/k.py", "test": "/out/test_k.py"}
    assert dumped["stopped"] == "budget" and dumped["best"]["candidate_id"] == 1
    round_trips(report)
    none = OptimizeReportOut.from_run(
        RUN, evaluated=3, stopped="exhausted", best=None, pareto=[], exported=None
    )
    assert none.best is None and none.export is None
    round_trips(none)


def test_problem_and_machine_documents() -> None:
    problem = load_problem("softmax")
    doc = ProblemOut.from_problem(problem, ["torch_online"])
    dumped = doc.model_dump(mode="json")
    assert dumped["path"] == str(problem.path) and dumped["families"] == ["torch_online"]
    assert [s["name"] for s in dumped["shapes"]] == [s.name for s in problem.shapes]
    round_trips(doc)

    spec = DeviceSpec(
        "cuda:0", "cuda", "NVIDIA H100", 80 << 30, 132, 50 << 20, 2900.0, DevicePeak(3350.0, 67.0, 989.0),
        "550.54", {"sm_mhz": 1980.0, "source": "nvml"},
    )  # fmt: skip
    isolation = Isolation(True, True, False, 6, True, ("no capability drop",))
    machine = MachineOut.from_machine([spec], isolation, sandbox_on=True, ncu="/usr/bin/ncu", ncu_on=False)
    assert machine.model_dump(mode="json") == {
        "devices": [spec.to_dict()],
        "sandbox": {"enabled": True, **isolation.describe()},
        "profilers": {"torch_profiler": True, "ncu": "/usr/bin/ncu", "ncu_enabled": False},
    }
    round_trips(machine)


def test_the_schemas_import_neither_torch_nor_the_evaluator_runtime() -> None:
    probe = (
        "import sys, service.schemas\n"
        "heavy = ('torch', 'triton', 'agent', 'rich', 'evaluator.evaluate', 'evaluator.hardware',"
        " 'evaluator.sandbox', 'evaluator.child', 'evaluator.profiling')\n"
        "print([m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy)])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


PROBLEM = """
import torch

SHAPES = [{"name": "a", "n": 32}, {"name": "b", "n": 48}]


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs(n=32):
    return [torch.randn(n, n)]


def get_init_inputs():
    return []
"""

FAMILY = """
import torch

CONFIG_SPACE = {"clamp": [True, False]}


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x.clamp(min=0) if CONFIG["clamp"] else torch.relu(x)
"""


def validated(result: Output, model: type[M]) -> M:
    """The command's stdout is exactly the model's document: it validates and prints back the same."""
    assert "Traceback" not in result.stderr, result.stderr
    document = model.model_validate_json(result.stdout)
    assert result.stdout == as_json(document) + "\n"
    return document


def test_the_commands_that_evaluate_nothing_print_their_documents(crucible: Run) -> None:
    listed = validated(crucible("problems", "--json"), ProblemListOut)
    assert {"softmax", "matmul"} <= {p.name for p in listed.root}
    assert validated(crucible("problems", "softmax", "--json"), ProblemOut).builtin
    machine = validated(crucible("devices", "--no-measure", "--json"), MachineOut)
    assert machine.devices[0].key == "cpu" and machine.devices[0].copy_gbps is None
    assert validated(crucible("runs", "--json"), RunListOut).root == ()
    missing = crucible("show", "41", "--json")
    assert missing.code == 2 and "41" in validated(missing, ErrorOut).error


@pytest.mark.slow  # one evaluation and a two-candidate optimization, in subprocesses
def test_the_commands_that_evaluate_print_their_documents(crucible: Run, tmp_path: Path) -> None:
    problem = tmp_path / "relu_problem.py"
    problem.write_text(PROBLEM)
    (tmp_path / "relu_problem_variants").mkdir()
    family = tmp_path / "relu_problem_variants" / "torch_relu.py"
    family.write_text(FAMILY)

    evaluated = crucible("evaluate", str(problem), str(family), "--config", "clamp=false", "--json")
    assert evaluated.code == 0, evaluated.stderr
    verdict = validated(evaluated, EvaluateOut)
    assert verdict.status is Status.OK and verdict.config == {"clamp": False}
    assert [s.shape for s in verdict.shapes] == ["a", "b"]

    out = tmp_path / "out"
    optimized = crucible("optimize", str(problem), "--budget", "2", "--export", str(out), "--json")
    assert optimized.code == 0, optimized.stderr
    report = validated(optimized, OptimizeReportOut)
    assert report.evaluated == 2 and report.best is not None and report.export is not None
    assert report.export.module.exists()

    runs = validated(crucible("runs", "--json"), RunListOut)
    assert [r.run_id for r in runs.root] == [report.run_id]
    shown = validated(crucible("show", str(report.run_id), "--json"), RunDetailOut)
    assert len(shown.candidates) == 2 and shown.best == report.best
    again = crucible("export", str(report.run_id), "--out", str(tmp_path / "again"), "--json")
    exported = validated(again, ExportOut)
    assert exported.module.exists() and exported.candidate_id == report.best.candidate_id
