"""Judging one candidate: static gate, a fresh sandboxed process, outside comparison, metrics.

``Evaluator`` is bound to one problem, one device and one secret seed. It prepares the
reference once (lazily, thread-safe) and then evaluates candidates, each in its own process.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from evaluator.checks.inputs import derive_seed
from evaluator.checks.plausibility import implausibility, settle, verification_limits
from evaluator.checks.probes import probe_input_path
from evaluator.checks.spot_checks import positions_path
from evaluator.checks.static_gate import check_source
from evaluator.limits import EvalLimits
from evaluator.metrics import shape_metrics, speedup_note
from evaluator.observer import CandidateObserver
from evaluator.phases import PhaseClock
from evaluator.preflight import run_preflight
from evaluator.profiling.ncu_pass import NcuPass, merge_ncu
from evaluator.profiling.roofline import peak_for
from evaluator.reference import (
    ReferenceData,
    device_env,
    prepare_reference,
    sandbox_policy,
    timing_plan,
)
from evaluator.sandbox.process import ChildExit, SandboxedProcess, SandboxPolicy, child_environment
from evaluator.timing.methods import shape_method
from evaluator.timing.stats import TimingPlan
from evaluator.types import DeviceInfo, EvalResult, NcuReport, ShapeMetrics, Stage, Status
from evaluator.wire.jobs import CandidateJob, ChildLimits, TimingSpec, TrialSpec, write_job
from evaluator.wire.messages import StageEntered
from evaluator.wire.shared_inputs import inputs_for_candidate, share_inputs
from kernels.candidate import Candidate, Language
from kernels.problem import Problem

# The stages a candidate's process reports that the phase clock times (``evaluator.phases``).
CHILD_PHASES = (Stage.LOAD, Stage.CORRECTNESS, Stage.TIMING)


class Evaluator:
    """Evaluates candidates for one problem on one device against one secret seed."""

    def __init__(
        self,
        problem: Problem,
        device: str,
        limits: EvalLimits,
        secret_seed: int,
        workroot: Path | None = None,
        keep_workdirs: bool = False,
    ) -> None:
        self.problem = problem
        self.device = device
        self.limits = limits
        self.secret_seed = secret_seed
        self.keep_workdirs = keep_workdirs
        self._own_root = workroot is None
        self.workroot = Path(tempfile.mkdtemp(prefix="crucible-")) if workroot is None else workroot
        self.workroot.mkdir(parents=True, exist_ok=True)
        self._reference: ReferenceData | None = None
        self._shared_inputs: dict[Path, Path] | None = None  # ``evaluator.wire.shared_inputs``
        self._lock = threading.Lock()
        self.ncu = NcuPass(limits, device)

    @property
    def reference_ready(self) -> bool:
        """True once the reference is prepared: later candidates have no reference phase."""
        return self._reference is not None

    def reference(self) -> ReferenceData:
        with self._lock:
            if self._reference is None:
                ref_dir = Path(tempfile.mkdtemp(prefix="reference-", dir=self.workroot))
                self._reference = prepare_reference(
                    self.problem, self.device, self.limits, self.secret_seed, ref_dir
                )
                isolation = sandbox_policy(self.limits, self.device).isolation
                if isolation is not None and isolation.landlock_abi:
                    shared_dir = Path(tempfile.mkdtemp(prefix="inputs-", dir=self.workroot))
                    self._shared_inputs = share_inputs(self._reference, shared_dir)
            return self._reference

    def _policy(self, workdir: Path) -> SandboxPolicy:
        """The candidates' sandbox, with the shared inputs' folder and the candidate's probe folder
        readable where Landlock keeps them read-only."""
        policy = sandbox_policy(self.limits, self.device)
        if self._shared_inputs is None:
            return policy
        folders = sorted({str(p.parent) for p in self._shared_inputs.values()})
        return replace(policy, read_only_paths=(*folders, str(self._probe_dir(workdir))))

    def _probe_dir(self, workdir: Path) -> Path:
        """Where probe inputs appear on request. Under Landlock, a folder beside the candidate's that
        it may only read, so each probe is a hard link to the reference's file, not a copy;
        otherwise inside its own folder, as a copy it may scribble on."""
        if self._shared_inputs is None:
            return workdir / "probe"
        return workdir.with_name(workdir.name.replace("cand-", "probes-", 1))

    def close(self) -> None:
        if self._own_root and not self.keep_workdirs:
            shutil.rmtree(self.workroot, ignore_errors=True)

    def _interpreted(self, candidate: Candidate) -> bool:
        """Triton without a GPU runs under the interpreter: checked, never ranked."""
        return candidate.language is Language.TRITON and not self.device.startswith("cuda")

    def gate(self, candidate: Candidate) -> EvalResult | None:
        """The static gate's verdict when it turns the candidate away; None when it may run."""
        verdict = check_source(candidate.source, self.problem.module_stem)
        if verdict.passed or verdict.status is None:
            return None
        interpreted = self._interpreted(candidate)
        return self._result(verdict.status, Stage.STATIC_GATE, verdict.reason, time.monotonic(), interpreted)

    def preflight(self, candidate: Candidate) -> EvalResult | None:
        """A verdict found on the CPU before any GPU is used (``evaluator.preflight``); None: go on."""
        started = time.monotonic()
        found = run_preflight(candidate, self.limits, self.workroot)
        if found is None:
            return None
        interpreted = self._interpreted(candidate)
        return self._result(found[0], Stage.LOAD, found[1], started, interpreted)

    def evaluate(self, candidate: Candidate) -> EvalResult:
        started = time.monotonic()
        interpreted = self._interpreted(candidate)
        gated = self.gate(candidate)
        if gated is not None:
            return gated
        clock = PhaseClock()
        if not self.reference_ready:
            clock.enter("reference")  # only the evaluator's first candidate pays for it
        reference = self.reference()
        workdir = Path(tempfile.mkdtemp(prefix=f"cand-{candidate.hash}-", dir=self.workroot))
        ncu_report = None
        try:
            observed, exit_info, stage = self._run_child(candidate, reference, workdir, interpreted, clock)
            status, reason = self._verdict(observed, exit_info, stage)
            # Too many cores, or results reused across calls, is a verdict once seen twice: here,
            # and again in a fresh process with new seeds and new probes.
            crowded = "; ".join(observed.crowded.values()) if status is Status.OK else ""
            reused = "; ".join(observed.reused.values()) if status is Status.OK else ""
            if (crowded or reused) and not self.limits.reverify:
                status, reason = Status.REJECTED, reused or crowded
            if status is Status.OK and not interpreted and not (crowded or reused):
                clock.enter("ncu")
                ncu_report = self._ncu_pass(observed, reference, workdir)
            clock.enter("finish")
        finally:
            if not self.keep_workdirs:
                shutil.rmtree(workdir, ignore_errors=True)
                shutil.rmtree(self._probe_dir(workdir), ignore_errors=True)
        shapes = shape_metrics(observed, reference, interpreted) if status is Status.OK else ()
        if shapes:
            reason += speedup_note(observed, reference)
        result = self._result(
            status,
            stage if stage in CHILD_PHASES or stage is Stage.DONE else Stage.LOAD,
            reason,
            started,
            interpreted,
            shapes,
            observed.device or reference.device,
        )
        if status is Status.OK:
            result = replace(result, profile=merge_ncu(observed.profile(), ncu_report))
        result = replace(result, phase_seconds=clock.finish())
        # A timing the probe loops did not bear out is never reported as it stands, nor rejected:
        # it is measured again in a fresh process, or, in that process, left unranked.
        drift = "; ".join(observed.drifts.values()) if status is Status.OK else ""
        if drift and not self.limits.reverify:
            return replace(result, suspect=True, verification=f"timing not borne out ({drift})")
        if not self.limits.reverify:  # a verification run, or a user who turned it off: this is final
            return result
        why = reused or crowded or implausibility(result, self.limits.max_plausible_speedup) or drift
        return self._reverify(candidate, result, why) if why else result

    def _reverify(self, candidate: Candidate, flagged: EvalResult, why: str) -> EvalResult:
        """A fresh evaluator (new seeds, new reference, more samples) judges the candidate again."""
        verifier = Evaluator(
            self.problem,
            self.device,
            verification_limits(self.limits),
            derive_seed(self.secret_seed, "verify", candidate.hash),
            workroot=self.workroot / f"verify-{candidate.hash}",
            keep_workdirs=self.keep_workdirs,
        )
        try:
            fresh = verifier.evaluate(candidate)
        finally:
            shutil.rmtree(verifier.workroot, ignore_errors=True)
        return settle(flagged, why, fresh)

    def _result(
        self,
        status: Status,
        stage: Stage,
        reason: str,
        started: float,
        interpreted: bool,
        shapes: tuple[ShapeMetrics, ...] = (),
        device: DeviceInfo | None = None,
    ) -> EvalResult:
        return EvalResult(
            status,
            stage,
            reason,
            shapes,
            device,
            interpreted,
            self.problem.scaled_down,
            time.monotonic() - started,
        )

    def _job(
        self, candidate: Candidate, reference: ReferenceData, workdir: Path, interpreted: bool
    ) -> CandidateJob:
        outputs_dir = workdir / "outputs"
        outputs_dir.mkdir()
        (workdir / "candidate.py").write_text(candidate.source)
        inputs = inputs_for_candidate(reference, self._shared_inputs, workdir / "inputs")
        trials = [
            TrialSpec(
                trial.shape,
                trial.index,
                str(inputs[trial.inputs_path]),
                str(outputs_dir / f"out_{trial.shape}_{trial.index}.pt"),
            )
            for trial in reference.trials
        ]
        plan = timing_plan(self.limits)
        if interpreted:
            n = self.limits.interpreted_samples
            plan = TimingPlan(warmup_ms=0.0, budget_ms=0.0, min_samples=n, max_samples=n, warmup_calls=0)
        timings = [
            TimingSpec(
                s.name,
                [t.inputs_path for t in trials if t.shape == s.name],
                s.flops,
                s.bytes_moved,
                profile=self.limits.profile and not interpreted,
                method=None if interpreted else shape_method(reference.timings[s.name]),
                probe_paths=[]
                if interpreted
                else [
                    str(probe_input_path(self._probe_dir(workdir), s.name, i))
                    for i in range(len(reference.probes_for(s.name)))
                ],
                check_path=str(positions_path(workdir / "checks", s.name)),
            )
            for s in reference.shapes
        ]
        self._probe_dir(workdir).mkdir()
        (workdir / "checks").mkdir()
        return CandidateJob(
            candidate_path=str(workdir / "candidate.py"),
            config=candidate.config.as_dict(),
            device=self.device,
            init_inputs_path=str(inputs[reference.init_inputs_path]),
            model_seed=reference.model_seed,
            trials=trials,
            timings=timings,
            plan=plan,
            limits=ChildLimits(self.limits.cpu_threads, self.limits.gpu_memory_fraction),
            interpreted=interpreted,
            problem_stem=self.problem.module_stem,
        )

    def _run_child(
        self,
        candidate: Candidate,
        reference: ReferenceData,
        workdir: Path,
        interpreted: bool,
        clock: PhaseClock,
    ) -> tuple[CandidateObserver, ChildExit, Stage]:
        clock.enter("inputs")
        job = self._job(candidate, reference, workdir, interpreted)
        job_path = workdir / "job.json"
        write_job(job, job_path)
        env = child_environment(workdir, device_env(self.device, interpreted), self.limits.cpu_threads)
        clock.enter("start")
        proc = SandboxedProcess("evaluator.child.harness", job_path, workdir, env, self._policy(workdir))
        observer = CandidateObserver(
            reference,
            workdir / "outputs",
            self.problem.tolerance,
            probe_dir=None if interpreted else self._probe_dir(workdir),
            link_probes=self._shared_inputs is not None,
            check_dir=workdir / "checks",
            keep_outputs=self.keep_workdirs,
            allowed_cores=None if interpreted or self.device.startswith("cuda") else self.limits.cpu_threads,
        )
        for message in proc.events():
            if isinstance(message, StageEntered) and message.stage in CHILD_PHASES:
                clock.enter(message.stage.value)
            handled_at = time.monotonic()
            stop = observer.handle(message)
            clock.overlapping(time.monotonic() - handled_at)
            if stop:
                proc.kill()
                break
        stage = proc.stage
        return observer, proc.finish(), stage

    def _ncu_pass(
        self, observed: CandidateObserver, reference: ReferenceData, workdir: Path
    ) -> NcuReport | None:
        """Nsight Compute on the largest shape, in the candidate's own workdir and sandbox."""
        shape = reference.shapes[-1]
        device = observed.device or reference.device
        return self.ncu.profile(
            workdir / "job.json",
            child_environment(workdir, device_env(self.device, False), self.limits.cpu_threads),
            self._policy(workdir),
            shape,
            observed.timings[shape.name].median_us,
            peak_for(device.name),
        )

    def _verdict(self, observed: CandidateObserver, exit_info: ChildExit, stage: Stage) -> tuple[Status, str]:
        if observed.verdict:
            return observed.verdict
        if exit_info.timed_out_stage:
            limit = self.limits.stage_timeout(exit_info.timed_out_stage)
            return Status.TIMEOUT, f"exceeded the {exit_info.timed_out_stage.value} limit of {limit:g}s"
        if observed.done and exit_info.returncode == 0:
            missing = observed.missing_results()
            if missing:
                return Status.REJECTED, f"reported done without results for {missing}"
            return Status.OK, f"matches the reference on every trial and {observed.timed_checks} timed calls"
        return _death_status(exit_info.returncode, stage, exit_info)


def _death_status(code: int | None, at: Stage, exit_info: ChildExit) -> tuple[Status, str]:
    """A child that ended without a verdict or 'done': a signal, an exit, or a kill."""
    stage = at.value
    tail = exit_info.stderr_tail.strip().splitlines()
    hint = f": {tail[-1][:300]}" if tail else ""
    if code is not None and code > 128 and exit_info.signal_as_exit_code:
        code = 128 - code  # the sandbox's process 1 reports a signal as 128 + N (evaluator.sandbox.launcher)
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        if name == "SIGKILL" and not exit_info.killed_by_us:
            return (
                Status.OUT_OF_MEMORY,
                f"killed by SIGKILL during {stage}, most likely by the kernel's OOM killer",
            )
        return Status.CRASHED, f"process died with {name} during {stage}{hint}"
    return Status.CRASHED, f"process exited with code {code} during {stage} before finishing{hint}"
