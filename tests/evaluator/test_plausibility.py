"""Implausible results are flagged, re-verified and settled; unconfirmed ones are never ranked."""

from __future__ import annotations

import pytest

from evaluator.checks.plausibility import implausibility, settle, verification_limits
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status


def result(speedup: float, peak_fraction: float | None = None, status: Status = Status.OK) -> EvalResult:
    shape = ShapeMetrics(
        "s", median_us=10.0, ref_median_us=10.0 * speedup, speedup=speedup, peak_fraction=peak_fraction
    )
    return EvalResult(status, Stage.DONE, "r", (shape,) if status is Status.OK else ())


def test_flags_speedups_above_the_bound_and_beyond_the_roofline() -> None:
    assert implausibility(result(3.0), bound=25) is None
    assert "above the plausible 25x" in (implausibility(result(40.0), bound=25) or "")
    assert "roofline" in (implausibility(result(2.0, peak_fraction=1.4), bound=25) or "")
    assert implausibility(result(40.0, status=Status.WRONG_OUTPUT), bound=25) is None


def test_verification_takes_more_samples_and_does_not_recurse() -> None:
    limits = verification_limits(EvalLimits(min_samples=10, timing_budget_ms=100))
    assert limits.min_samples == 30 and limits.timing_budget_ms == 300 and not limits.reverify
    assert not limits.ncu, "re-verification needs timing, not another Nsight Compute pass"


def test_settle_confirms_rejects_or_keeps_suspect() -> None:
    flagged = result(40.0)
    confirmed = settle(flagged, "why", result(38.0))
    assert confirmed.ok and not confirmed.suspect and "confirmed" in confirmed.verification

    failed = settle(flagged, "why", result(1.0, status=Status.WRONG_OUTPUT))
    assert failed.status is Status.WRONG_OUTPUT and "re-verification" in failed.reason

    unconfirmed = settle(flagged, "why", result(2.0))
    assert unconfirmed.suspect and "not confirmed" in unconfirmed.verification


def test_a_median_at_or_below_zero_gives_no_latency_rather_than_an_error() -> None:
    below = ShapeMetrics("tiny", median_us=-0.02, samples=50, timing_method="cuda_graph_l2_flush")
    fine = ShapeMetrics("wide", median_us=80.0, samples=50, timing_method="cuda_graph_l2_flush")
    result = EvalResult(Status.OK, Stage.DONE, "ok", shapes=(below, fine))
    assert result.latency_us is None and result.speedup is None
    assert EvalResult(Status.OK, Stage.DONE, "ok", shapes=(fine,)).latency_us == pytest.approx(80.0)
