"""The reference's process: build every trial's inputs, compute expected outputs, time the reference.

Run as ``python -m evaluator.child.reference_runner JOB_JSON MESSAGE_FD LIMITS``. No candidate code
runs here, so the reference's timing is never disturbed by a candidate.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from evaluator.sandbox.confine import apply_child_limits
from evaluator.types import Stage
from evaluator.wire.jobs import ReferenceJob, read_reference_job
from evaluator.wire.messages import Channel, ChildFailed, DeviceReport, ShapeTimed, StageEntered, TrialWritten


def run(job: ReferenceJob, channel: Channel) -> None:
    import torch

    from evaluator.checks.correctness import reference_scale
    from evaluator.checks.inputs import heavy_tailed
    from evaluator.child import runtime as rt
    from evaluator.child.compiled_baseline import time_compiled
    from evaluator.timing.methods import time_call
    from evaluator.wire import tensor_files
    from kernels.problem import import_problem_module

    torch.set_num_threads(job.limits.cpu_threads)
    device = "cuda:0" if job.device.startswith("cuda") else "cpu"
    channel.send(DeviceReport(rt.device_info(job.device)))
    module = import_problem_module(Path(job.problem_path), job.overrides)
    out = Path(job.out_dir)
    init_inputs = list(module.get_init_inputs())
    tensor_files.save_tensors(init_inputs, out / "init_inputs.pt")
    torch.manual_seed(job.model_seed)
    model = module.Model(*init_inputs).to(device).eval()

    def call(inputs: Any) -> Any:
        with torch.no_grad():
            return model(*inputs)

    channel.send(StageEntered(Stage.REFERENCE))
    eager = {}
    for shape in job.shapes:
        name, sizes = shape.name, shape.sizes
        input_sets = []
        for index, seed in enumerate(job.trial_seeds[name]):
            torch.manual_seed(seed)
            inputs = list(module.get_inputs(**sizes))
            if index in job.heavy_tail_trials:
                inputs = heavy_tailed(inputs, seed)
            tensor_files.save_tensors(inputs, out / f"inputs_{name}_{index}.pt")
            on_device = rt.to_device(inputs, device)
            with rt.PeakMemory(device) as peak:
                result = call(on_device)
            try:
                outputs = rt.plain_outputs(result)
            except rt.NotPlainOutput as exc:
                raise RuntimeError(f"the reference Model {exc}") from None
            tensor_files.save_outputs(outputs, Path(job.expected_dir) / f"expected_{name}_{index}.pt")
            input_sets.append(on_device)
            scales = [reference_scale(o) for o in outputs]  # once here, for every candidate's spot checks
            channel.send(TrialWritten(name, index, peak.peak_bytes, tuple(scales)))
        figures = time_call(device, call, input_sets, job.plan)
        eager[name] = figures[0]
        channel.send(ShapeTimed(name, tuple(figures)))
    # After every eager figure is out, so a compiler that outlasts the time limit costs only itself.
    if job.compile_mode:
        for shape in job.shapes:
            trials = range(len(job.trial_seeds[shape.name]))
            input_sets = [
                rt.to_device(tensor_files.load_tensors(out / f"inputs_{shape.name}_{i}.pt"), device)
                for i in trials
            ]
            timed = time_compiled(
                model, job.compile_mode, device, shape.name, input_sets, job.plan, eager[shape.name]
            )
            channel.send(timed)
    channel.send(StageEntered(Stage.DONE))


def main(argv: list[str]) -> int:
    job_path, fd, limits = argv[1], int(argv[2]), argv[3]
    apply_child_limits(limits, str(Path(job_path).parent))
    channel = Channel(fd)
    try:
        run(read_reference_job(Path(job_path)), channel)
    except Exception as exc:  # the process boundary
        channel.send(ChildFailed(f"{type(exc).__name__}: {exc}", traceback.format_exc()[-3000:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
