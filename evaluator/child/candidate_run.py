"""The stages of a candidate's process, in order: load, correctness trials, then per shape timing,
its checked outputs and its probes. ``evaluator.child.harness`` runs them after the process's limits
are in place; this module imports torch, so it is imported only then.

Every stage returns False once it has sent a verdict: the process then stops.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from evaluator.checks.probes import FIRST_PROBE_POSITION, LOCAL_SAMPLES, probe_output_name
from evaluator.checks.spot_checks import gather_spots, probe_positions_path
from evaluator.child import call_guards as guards
from evaluator.child import leftovers
from evaluator.child import runtime as rt
from evaluator.child.candidate_module import load_candidate_module
from evaluator.profiling.roofline import peak_for
from evaluator.profiling.torch_profiler import profile_call
from evaluator.timing.loop import time_probe
from evaluator.timing.methods import time_call
from evaluator.timing.stats import TimingPlan
from evaluator.types import Stage, Status
from evaluator.wire import tensor_files
from evaluator.wire.jobs import CandidateJob, TimingSpec, TrialSpec
from evaluator.wire.messages import (
    Channel,
    DeviceReport,
    PositionsWanted,
    ProbePositionsWanted,
    ProbeTimed,
    ProbeWanted,
    ShapeProfiled,
    ShapeTimed,
    StageEntered,
    TimedOutputWritten,
    TrialWritten,
    Verdict,
)


class CandidateRun:
    """One candidate's process from its import to its last probe."""

    def __init__(self, job: CandidateJob, channel: Channel) -> None:
        self.job = job
        self.channel = channel
        torch.set_num_threads(job.limits.cpu_threads)
        self.device = "cuda:0" if job.device.startswith("cuda") else "cpu"
        if self.device != "cpu" and job.limits.gpu_memory_fraction < 1.0:
            torch.cuda.set_per_process_memory_fraction(job.limits.gpu_memory_fraction, 0)
        info = rt.device_info(job.device)  # once: on CUDA it reads the clocks
        channel.send(DeviceReport(info))
        self.device_peak = peak_for(info.name) if self.device.startswith("cuda") else None
        self.guard = guards.IntegrityGuard()
        self.rng = random.SystemRandom()
        leftovers.quiet_library_threads()
        self.since_load = leftovers.LeftoverCheck()  # before any candidate code: every later thread is its
        self.outputs_dir = Path(job.trials[0].output_path).parent
        self.call: Callable[[Any], Any] = _not_loaded  # the candidate's forward, once ``load`` made it
        # The previous trial's or shape's inputs, held until the next ones are loaded, so that
        # fresh inputs never land at an address the candidate has already seen (a cache keyed by
        # pointer would answer them).
        self._held: Any = None

    def fail(self, status: Status, reason: str) -> bool:
        self.channel.send(Verdict(status, reason))
        return False

    def patched(self, where: str) -> bool:
        """True (with the verdict sent) when a watched function of the harness was replaced."""
        changed = self.guard.tampered()
        if changed:
            self.fail(
                Status.REJECTED, f"{where}: replaced {', '.join(changed[:4])} (monkey-patching the harness)"
            )
        return bool(changed)

    def load(self) -> bool:
        job = self.job
        try:
            module = load_candidate_module(job.candidate_path, job.config)
        except SyntaxError as exc:
            return self.fail(Status.COMPILE_ERROR, f"syntax error at line {exc.lineno}: {exc.msg}")
        except Exception as exc:
            return self.fail(Status.COMPILE_ERROR, f"import failed: {type(exc).__name__}: {exc}")
        if self.patched("while loading"):
            return False
        model_cls = getattr(module, "ModelNew", None)
        if not isinstance(model_cls, type) or not issubclass(model_cls, torch.nn.Module):
            return self.fail(Status.REJECTED, "the module does not define class ModelNew(torch.nn.Module)")
        try:
            init_inputs = tensor_files.load_tensors(job.init_inputs_path)
            torch.manual_seed(job.model_seed)
            model = model_cls(*init_inputs).to(self.device).eval()
        except Exception as exc:
            status, reason = rt.classify_exception(exc)
            return self.fail(
                status, f"ModelNew(...) failed: {reason}{rt.last_frame_in(exc, job.candidate_path)}"
            )

        def call(inputs: Any) -> Any:  # a closure, as the reference's is: no lookups in timed calls
            with torch.no_grad():
                return model(*inputs)

        self.call = call
        return True

    def correctness(self) -> bool:
        self.channel.send(StageEntered(Stage.CORRECTNESS))
        # Start the runtime's own thread pools before threads are counted.
        warm = torch.ones(256, 256, device=self.device)
        (warm @ warm).sum().item()
        earlier: list[torch.Tensor] = []  # the previous call's outputs, held so their memory stays taken
        for trial in self.job.trials:
            outputs = self.trial(trial, earlier)
            if outputs is None:
                return False
            earlier = outputs
        return True

    def trial(self, trial: TrialSpec, earlier: list[torch.Tensor]) -> list[torch.Tensor] | None:
        """One correctness call and every check around it; its outputs, or None after a verdict."""
        device, shape = self.device, trial.shape
        inputs = rt.to_device(tensor_files.load_tensors(trial.inputs_path), device)
        before = rt.clone_all(inputs)
        self._held = (inputs, before)
        since_call = leftovers.LeftoverCheck()
        guards.poison_free_memory(device)
        late_writes = False
        try:
            with rt.PeakMemory(device) as peak:
                out = self.call(inputs)
                if device.startswith("cuda"):
                    tensors = [o for o in rt.as_list(out) if type(o) is torch.Tensor]
                    late_writes = guards.settled_on_other_streams(tensors)
                    torch.cuda.synchronize()
        except Exception as exc:
            status, reason = rt.classify_exception(exc)
            self.fail(status, f"shape {shape}: {reason}{rt.last_frame_in(exc, self.job.candidate_path)}")
            return None
        if self.patched(f"shape {shape}"):
            return None
        if late_writes:
            self.fail(
                Status.REJECTED,
                f"shape {shape}: work on another stream was still writing the output after the call returned",
            )
            return None
        problem = since_call.leftovers()
        if problem:
            self.fail(Status.REJECTED, f"shape {shape}: {problem}")
            return None
        try:
            outputs = rt.plain_outputs(out)
        except rt.NotPlainOutput as exc:
            self.fail(Status.REJECTED, f"shape {shape}: {exc}")
            return None
        changed = guards.mutated_inputs(before, inputs)
        if changed:
            self.fail(Status.REJECTED, f"shape {shape}: the call modified input(s) {changed} in place")
            return None
        reused = guards.reused_output_memory(outputs, earlier)
        if reused is not None:
            self.fail(
                Status.REJECTED,
                f"shape {shape}: output {reused} is the memory the previous call returned; each call "
                "must return its own result, or the next call overwrites the caller's earlier one",
            )
            return None
        tensor_files.save_outputs(outputs, trial.output_path)
        self.channel.send(TrialWritten(shape, trial.index, peak.peak_bytes))
        return outputs

    def timing(self) -> bool:
        self.channel.send(StageEntered(Stage.TIMING))
        return all(self.time_shape(timing, self.job.plan) for timing in self.job.timings)

    def time_shape(self, timing: TimingSpec, plan: TimingPlan) -> bool:
        """Time one shape, check outputs kept from its timed calls, then call it on its probes."""
        device, shape = self.device, timing.shape
        input_sets = [rt.to_device(tensor_files.load_tensors(p), device) for p in timing.inputs_paths]
        self._held = input_sets
        watcher = guards.TimedOutputSampler(self.rng, len(input_sets))
        strays = leftovers.StrayWork(watcher.offer, since=self.since_load)
        try:
            shape_plan = replace(plan, method=timing.method) if timing.method else plan
            figures = time_call(
                device, self.call, input_sets, shape_plan, strays.after_sample, watcher.check_too
            )
        except Exception as exc:
            status, reason = rt.classify_exception(exc)
            return self.fail(status, f"shape {shape} while timing: {reason}")
        if timing.profile:
            report = profile_call(
                functools.partial(self.call, input_sets[0]),
                device,
                flops=timing.flops,
                bytes_moved=timing.bytes_moved,
                median_us=figures[0].median_us,
                peak=self.device_peak,
            )
            self.channel.send(ShapeProfiled(shape, report))
        problem = strays.leftovers()
        if problem:  # left behind, it could rewrite the kept outputs before they are checked
            return self.fail(Status.REJECTED, f"shape {shape} while timing: {problem}")
        if self.patched(f"shape {shape} while timing"):
            return False
        self.channel.send(ShapeTimed(shape, tuple(figures)))
        kept = watcher.kept()
        if kept:
            # Drawn by the evaluator only now that the timed calls are over (evaluator.checks.spot_checks).
            self.channel.send(PositionsWanted(shape))
            positions = tensor_files.load_tensors(rt.wait_for_file(timing.check_path))
        for sample, index, output in kept:
            try:
                outputs = rt.plain_outputs(output)
            except rt.NotPlainOutput as exc:
                return self.fail(Status.REJECTED, f"shape {shape} while timing: {exc}")
            path = self.outputs_dir / f"timed_{shape}_{sample}.pt"
            tensor_files.save_tensors(gather_spots(outputs, positions[index]), path)
            self.channel.send(TimedOutputWritten(shape, index, sample, str(path)))
        return all(self.probe(timing, index, input_sets) for index in range(len(timing.probe_paths)))

    def probe(self, timing: TimingSpec, index: int, input_sets: list[list[Any]]) -> bool:
        """One call on inputs the candidate has never seen (``evaluator.checks.probes``)."""
        device, shape = self.device, timing.shape
        self.channel.send(ProbeWanted(shape, index))
        try:
            delivered = rt.wait_for_file(timing.probe_paths[index])
            fresh = rt.to_device(tensor_files.load_tensors(delivered), device)
            # One sample of a short loop over the seen inputs, staged into the same buffers, so the
            # probe meets the conditions its neighbours do (evaluator.checks.probes). A cache keyed by
            # address still hits and answers stale; one keyed by content misses and is slow.
            position = self.rng.randint(FIRST_PROBE_POSITION, LOCAL_SAMPLES)
            figures, output = time_probe(device, self.call, input_sets, fresh, position)
            outputs = rt.plain_outputs(output)
            stray = self.since_load.leftovers()  # finishing the answer after the clock stopped
            if stray:
                return self.fail(Status.REJECTED, f"shape {shape} on new inputs: {stray}")
        except rt.NotPlainOutput as exc:
            return self.fail(Status.REJECTED, f"shape {shape} on new inputs: {exc}")
        except Exception as exc:
            status, reason = rt.classify_exception(exc)
            return self.fail(status, f"shape {shape} on new inputs: {reason}")
        if self.patched(f"shape {shape} on new inputs"):
            return False
        self.channel.send(ProbePositionsWanted(shape, index))
        at = probe_positions_path(Path(timing.check_path).parent, shape, index)
        spots = gather_spots(outputs, tensor_files.load_tensors(rt.wait_for_file(at)))
        tensor_files.save_tensors(spots, self.outputs_dir / probe_output_name(shape, index))
        self.channel.send(
            ProbeTimed(
                shape,
                index,
                figures.call_us,
                figures.local_median_us,
                figures.method,
                figures.call_cpu_us,
                figures.local_cpu_median_us,
            )
        )
        return True


def _not_loaded(inputs: Any) -> Any:
    raise RuntimeError("the candidate was called before it was loaded")
