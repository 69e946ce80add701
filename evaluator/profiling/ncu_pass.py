"""The Nsight Compute pass: hardware counters for a candidate that passed, where ncu may read them.

It runs after correctness and timing, in the candidate's own work directory and sandbox, with
``evaluator.child.ncu_target`` as the process ncu watches. ncu replays kernels and locks clocks, so
its numbers describe the kernel (throughput, occupancy, L2 hits) and never replace the timing.
A failure is reported with the profile and turns the pass off for the rest of the evaluator's
life: a missing permission or a driver mismatch would only repeat on every candidate.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from evaluator.limits import EvalLimits
from evaluator.profiling.ncu import ProfilerError, ncu_available, profile_with_ncu
from evaluator.profiling.roofline import DevicePeak
from evaluator.sandbox.process import SandboxPolicy, child_args
from evaluator.types import NcuReport, Profile
from kernels.problem import Shape

log = logging.getLogger("crucible.ncu")


class NcuPass:
    """One per evaluator: whether ncu runs, and why it stopped if it did."""

    def __init__(self, limits: EvalLimits, device: str) -> None:
        self.enabled = limits.profile and limits.ncu and device.startswith("cuda") and ncu_available()
        self.timeout_s = limits.timing_timeout_s
        self.disabled_because: str | None = None
        self._lock = threading.Lock()

    def profile(
        self,
        job_path: Path,
        env: dict[str, str],
        policy: SandboxPolicy,
        shape: Shape,
        median_us: float | None,
        peak: DevicePeak | None,
    ) -> NcuReport | None:
        """The ncu report for one call on ``shape``, or why there is none; None when the pass is off.

        ``evaluator.child.ncu_target`` profiles the job's last timed shape, which is ``shape``.
        """
        if not self.enabled or self.disabled_because:
            return None
        command = [sys.executable, "-m", "evaluator.child.ncu_target", str(job_path), *child_args(policy)]
        if policy.isolation is not None and policy.isolation.network_namespace:
            # ncu and its target share the namespace; Landlock's socket scoping would part them.
            command.append("--profiler-ipc")
        try:
            report = profile_with_ncu(
                command,
                calls=1,
                flops=shape.flops,
                bytes_moved=shape.bytes_moved,
                median_us=median_us,
                peak=peak,
                launch_count=None,
                profile_from_start=False,
                timeout_s=self.timeout_s,
                env=env,
                cwd=str(job_path.parent),
                wrap=policy.isolation.wrap if policy.isolation else None,
            )
        except ProfilerError as exc:
            with self._lock:
                self.disabled_because = str(exc)
            log.warning("ncu profiling turned off for this evaluator: %s", exc)
            return NcuReport(shape.name, error=str(exc))
        return NcuReport(shape.name, report=report)


def merge_ncu(profile: Profile | None, ncu: NcuReport | None) -> Profile | None:
    """Add the ncu report to the torch-profiler one; its summary, richer, becomes the prompt line."""
    if ncu is None:
        return profile
    summary = profile.summary if profile else ""
    if ncu.report is not None and ncu.report.summary:
        summary = f"{ncu.shape}: {ncu.report.summary}"
    elif not summary:
        summary = f"{ncu.shape}: ncu failed: {ncu.error}"
    return Profile(summary=summary, shapes=dict(profile.shapes) if profile else {}, ncu=ncu)
