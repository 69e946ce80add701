"""The CLI's tables keep every figure whole at 100 columns, with times in their units."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from rich.console import Console

from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Language, Origin
from kernels.config import Config
from service import render
from store.records import CandidateRecord

SHAPES = (
    ShapeMetrics(
        "wide_bf16_rows",
        median_us=1913.25,
        iqr_us=12.5,
        samples=412,
        max_abs_err=5.96e-8,
        peak_mem_bytes=268_435_456,
        ref_median_us=4210.0,
        speedup=2.2004,
        achieved_gbps=1831.4,
        timing_method="cuda_events_l2_flush",
    ),
    ShapeMetrics(
        "small", median_us=8.123, iqr_us=0.04, samples=1000, max_abs_err=0.0, ref_median_us=9.9, speedup=1.22
    ),
)
RESULT = EvalResult(
    Status.OK, Stage.DONE, "matches", SHAPES, DeviceInfo("cuda:0", "cuda", "NVIDIA H100", "550", "2.5", "3.1")
)


def printed(table: object, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    return console.export_text()


@pytest.mark.parametrize(
    ("us", "text"),
    [(8.123, "8.12 µs"), (243.0, "243 µs"), (1913.25, "1.91 ms"), (2.4e6, "2.4 s"), (None, "-")],
)
def test_times_carry_their_unit(us: float | None, text: str) -> None:
    assert render.duration_text(us) == text


def test_the_shape_table_keeps_every_figure_whole_at_100_columns() -> None:
    text = printed(render.shapes_table(RESULT))
    assert "…" not in text
    for figure in ("1.91 ms", "12.5 µs", "4.21 ms", "2.20x", "5.96e-08", "8.12 µs", "wide_bf16_rows"):
        assert figure in text, figure
    assert max(len(line) for line in text.splitlines()) <= 100


def test_the_details_table_holds_the_secondary_figures_whole() -> None:
    text = printed(render.shape_details_table(RESULT))
    assert "…" not in text
    for figure in ("412", "events", "268 MB", "1831.4"):
        assert figure in text, figure


def test_the_candidates_table_shows_times_with_units_at_80_columns() -> None:
    now = datetime.now(timezone.utc)
    record = CandidateRecord(
        id=12,
        run_id=1,
        hash="ab" * 32,
        family="triton_online",
        origin=Origin.OFFLINE,
        language=Language.TRITON,
        parent_id=None,
        config=Config.of({"BLOCK": 1024, "num_warps": 8}),
        source="",
        result=RESULT,
        created_at=now,
    )
    text = printed(render.candidates_table([record], "Candidates"), width=80)
    assert "…" not in text and "1.91 ms" not in text  # the geometric mean of the shapes' medians
    assert render.duration_text(RESULT.latency_us) in text
