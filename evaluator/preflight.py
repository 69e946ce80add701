"""Pre-flight: what a candidate can fail on the CPU, checked while the GPUs evaluate others.

Between the static gate and a GPU slot, the candidate is imported in a sandboxed CPU process
with no GPU visible (``evaluator.child.preflight``). A syntax error, a module that cannot be
found, a missing ``ModelNew`` or an import that hangs gets its verdict there and never holds a
GPU. Whatever may depend on the device, such as a call into CUDA at import, goes on to the GPU
evaluation, which judges it.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from evaluator.limits import EvalLimits
from evaluator.reference import sandbox_policy
from evaluator.sandbox.process import SandboxedProcess, child_environment
from evaluator.types import Stage, Status
from evaluator.wire.jobs import PreflightJob, write_job
from evaluator.wire.messages import Verdict
from kernels.candidate import Candidate

# The only verdicts a pre-flight may give: the ones that cannot depend on the device.
PREFLIGHT_VERDICTS = {Status.COMPILE_ERROR, Status.REJECTED}


def run_preflight(candidate: Candidate, limits: EvalLimits, workroot: Path) -> tuple[Status, str] | None:
    """The verdict when the candidate fails on the CPU already; None when it goes on to a slot."""
    workdir = Path(tempfile.mkdtemp(prefix=f"preflight-{candidate.hash}-", dir=workroot))
    try:
        source = workdir / "candidate.py"
        source.write_text(candidate.source)
        job = workdir / "job.json"
        write_job(PreflightJob(str(source), candidate.config.as_dict()), job)
        env = child_environment(workdir, {"CUDA_VISIBLE_DEVICES": ""}, limits.cpu_threads)
        policy = replace(sandbox_policy(limits, "cpu"), stage_timeouts={Stage.LOAD: limits.load_timeout_s})
        proc = SandboxedProcess("evaluator.child.preflight", job, workdir, env, policy)
        verdict: tuple[Status, str] | None = None
        for message in proc.events():
            if isinstance(message, Verdict) and message.status in PREFLIGHT_VERDICTS:
                verdict = message.status, f"{message.reason} (found before a GPU was used)"
        exit_info = proc.finish()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if verdict is not None:
        return verdict
    if exit_info.timed_out_stage:
        limit = limits.load_timeout_s
        return Status.TIMEOUT, f"importing the module took longer than the load limit of {limit:g}s"
    return None  # it imported, or failed in a way the device might change: the GPU evaluation decides
