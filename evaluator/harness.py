"""The candidate's process: load ModelNew under its CONFIG, run the correctness trials, time it.

Run as ``python -m evaluator.harness JOB_JSON MESSAGE_FD LIMITS [READ_ONLY_DIR ...]``. It never sees reference
outputs: it writes its own outputs to files, and the parent compares them.
"""

from __future__ import annotations

import functools
import importlib.util
import random
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from evaluator.messages import CandidateJob, Channel, read_candidate_job
from evaluator.sandbox import apply_child_limits


def load_candidate_module(path: str, config: dict[str, Any]) -> ModuleType:
    """Import the candidate with CONFIG injected before and after its module code runs."""
    spec = importlib.util.spec_from_file_location("candidate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module.CONFIG = dict(config)  # type: ignore[attr-defined]
    sys.modules["candidate"] = module
    spec.loader.exec_module(module)
    module.CONFIG = dict(config)  # type: ignore[attr-defined]
    return module


def run(job: CandidateJob, channel: Channel) -> None:
    import torch

    from evaluator import call_guards as guards
    from evaluator import child_runtime as rt
    from evaluator.probes import probe_output_name
    from evaluator.profiler import profile_call
    from evaluator.roofline import peak_for
    from evaluator.spot_checks import gather_spots, probe_positions_path
    from evaluator.timing import TimingPlan, refill, time_call, time_once
    from evaluator.types import Status

    torch.set_num_threads(job.cpu_threads)
    device = "cuda:0" if job.device.startswith("cuda") else "cpu"
    if device != "cpu" and job.gpu_memory_fraction < 1.0:
        torch.cuda.set_per_process_memory_fraction(job.gpu_memory_fraction, 0)
    info = rt.device_info(job.device)  # once: on CUDA it reads the clocks
    channel.send("device", info=info.to_dict())
    device_peak = peak_for(info.name) if device.startswith("cuda") else None
    guard = guards.IntegrityGuard()
    rng = random.SystemRandom()

    def fail(status: Status, reason: str) -> None:
        channel.send("verdict", status=status.value, reason=reason)

    def patched(where: str) -> bool:
        changed = guard.tampered()
        if changed:
            fail(Status.REJECTED, f"{where}: replaced {', '.join(changed[:4])} (monkey-patching the harness)")
        return bool(changed)

    harness_threads = guards.LeftoverCheck()  # before any candidate code: every later thread is its
    try:
        module = load_candidate_module(job.candidate_path, job.config)
    except SyntaxError as exc:
        return fail(Status.COMPILE_ERROR, f"syntax error at line {exc.lineno}: {exc.msg}")
    except Exception as exc:
        return fail(Status.COMPILE_ERROR, f"import failed: {type(exc).__name__}: {exc}")
    if patched("while loading"):
        return None
    model_cls = getattr(module, "ModelNew", None)
    if not isinstance(model_cls, type) or not issubclass(model_cls, torch.nn.Module):
        return fail(Status.REJECTED, "the module does not define class ModelNew(torch.nn.Module)")
    try:
        init_inputs = rt.load_tensors(job.init_inputs_path)
        torch.manual_seed(job.model_seed)
        model = model_cls(*init_inputs).to(device).eval()
    except Exception as exc:
        status, reason = rt.classify_exception(exc)
        return fail(status, f"ModelNew(...) failed: {reason}{rt.last_frame_in(exc, job.candidate_path)}")

    def call(inputs: Any) -> Any:
        with torch.no_grad():
            return model(*inputs)

    channel.send("stage", stage="correctness")
    warm = torch.ones(256, 256, device=device)  # start the runtime's own thread pools before we count threads
    (warm @ warm).sum().item()
    earlier: list[torch.Tensor] = []  # the previous call's outputs, held so their memory stays taken
    for trial in job.trials:
        inputs = rt.to_device(rt.load_tensors(trial.inputs_path), device)
        before = rt.clone_all(inputs)
        leftover = guards.LeftoverCheck()
        guards.poison_free_memory(device)
        late_writes = False
        try:
            with rt.PeakMemory(device) as peak:
                out = call(inputs)
                if device.startswith("cuda"):
                    tensors = [o for o in rt.as_list(out) if type(o) is torch.Tensor]
                    late_writes = guards.settled_on_other_streams(tensors)
                    torch.cuda.synchronize()
        except Exception as exc:
            status, reason = rt.classify_exception(exc)
            return fail(status, f"shape {trial.shape}: {reason}{rt.last_frame_in(exc, job.candidate_path)}")
        if patched(f"shape {trial.shape}"):
            return None
        if late_writes:
            return fail(
                Status.REJECTED,
                f"shape {trial.shape}: work on another stream was still writing "
                "the output after the call returned",
            )
        problem = leftover.leftovers()
        if problem:
            return fail(Status.REJECTED, f"shape {trial.shape}: {problem}")
        try:
            outputs = rt.plain_outputs(out)
        except rt.NotPlainOutput as exc:
            return fail(Status.REJECTED, f"shape {trial.shape}: {exc}")
        changed = guards.mutated_inputs(before, inputs)
        if changed:
            return fail(
                Status.REJECTED, f"shape {trial.shape}: the call modified input(s) {changed} in place"
            )
        reused = guards.reused_output_memory(outputs, earlier)
        if reused is not None:
            return fail(
                Status.REJECTED,
                f"shape {trial.shape}: output {reused} is the memory the previous call returned; each call "
                "must return its own result, or the next call overwrites the caller's earlier one",
            )
        earlier = outputs
        rt.save_outputs(outputs, trial.output_path)
        channel.send("trial", shape=trial.shape, index=trial.index, peak_mem_bytes=peak.peak_bytes)
    channel.send("stage", stage="timing")
    plan = TimingPlan(**job.timing)
    outputs_dir = Path(job.trials[0].output_path).parent
    for timing in job.timings:
        input_sets = [rt.to_device(rt.load_tensors(p), device) for p in timing.inputs_paths]
        watcher = guards.TimedOutputSampler(rng, len(input_sets))
        strays = guards.StrayThreads(watcher.offer, since=harness_threads)
        try:
            shape_plan = replace(plan, method=timing.method) if timing.method else plan
            figures = time_call(device, call, input_sets, shape_plan, strays.after_sample, watcher.check_too)
        except Exception as exc:
            status, reason = rt.classify_exception(exc)
            return fail(status, f"shape {timing.shape} while timing: {reason}")
        if timing.profile:
            report = profile_call(
                functools.partial(call, input_sets[0]),
                device,
                flops=timing.flops,
                bytes_moved=timing.bytes_moved,
                median_us=figures[0].median_us,
                peak=device_peak,
            )
            channel.send("profile", shape=timing.shape, report=report.to_dict())
        problem = strays.leftovers()
        if problem:  # left behind, it could rewrite the kept outputs before they are checked
            return fail(Status.REJECTED, f"shape {timing.shape} while timing: {problem}")
        if patched(f"shape {timing.shape} while timing"):
            return None
        rt.send_timing(channel, timing.shape, figures)
        kept = watcher.kept()
        if kept:
            # Drawn by the evaluator only now that the timed calls are over (evaluator.spot_checks).
            channel.send("check_request", shape=timing.shape)
            positions = rt.load_tensors(rt.wait_for_file(timing.check_path))
        for sample, index, output in kept:
            try:
                outputs = rt.plain_outputs(output)
            except rt.NotPlainOutput as exc:
                return fail(Status.REJECTED, f"shape {timing.shape} while timing: {exc}")
            path = outputs_dir / f"timed_{timing.shape}_{sample}.pt"
            rt.save_tensors(gather_spots(outputs, positions[index]), path)
            channel.send("timed_output", shape=timing.shape, index=index, sample=sample, path=str(path))
        for index, probe_path in enumerate(timing.probe_paths):
            channel.send("probe_request", shape=timing.shape, probe=index)
            try:
                fresh = rt.to_device(rt.load_tensors(rt.wait_for_file(probe_path)), device)
                # As a timed sample runs: just after another call, on new values in buffers the
                # timed calls used. A cache keyed by address still hits; one keyed by content misses.
                call(input_sets[-1])
                call_us, output = time_once(device, call, refill(input_sets[0], fresh))
                outputs = rt.plain_outputs(output)
                stray = harness_threads.threads_left()  # finishing the answer after the clock stopped
                if stray:
                    return fail(Status.REJECTED, f"shape {timing.shape} on new inputs: {stray}")
            except rt.NotPlainOutput as exc:
                return fail(Status.REJECTED, f"shape {timing.shape} on new inputs: {exc}")
            except Exception as exc:
                status, reason = rt.classify_exception(exc)
                return fail(status, f"shape {timing.shape} on new inputs: {reason}")
            if patched(f"shape {timing.shape} on new inputs"):
                return None
            channel.send("probe_check_request", shape=timing.shape, probe=index)
            at = probe_positions_path(Path(timing.check_path).parent, timing.shape, index)
            spots = gather_spots(outputs, rt.load_tensors(rt.wait_for_file(at)))
            rt.save_tensors(spots, outputs_dir / probe_output_name(timing.shape, index))
            channel.send("probe", shape=timing.shape, probe=index, call_us=call_us)
    channel.send("stage", stage="done")


def main(argv: list[str]) -> int:
    job_path, fd, limits = argv[1], int(argv[2]), argv[3]
    apply_child_limits(limits, str(Path(job_path).parent), read_only=argv[4:])
    channel = Channel(fd)
    job = read_candidate_job(Path(job_path))
    try:
        run(job, channel)
    except MemoryError:
        channel.send("verdict", status="out_of_memory", reason="MemoryError in the evaluator harness")
    except Exception as exc:  # the process boundary: anything unexpected becomes a status
        reason = f"harness error: {type(exc).__name__}: {exc}"
        channel.send(
            "verdict", status="runtime_error", reason=reason, traceback=traceback.format_exc()[-2000:]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
