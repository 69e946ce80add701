"""The process Nsight Compute watches: the candidate's call on one input set, and nothing else.

Run as ``ncu ... python -m evaluator.child.ncu_target JOB_JSON LIMITS [READ_ONLY_DIR ...]
[--profiler-ipc]`` (with ``--profile-from-start off``), after the candidate has passed.
``--profiler-ipc``, given only inside a network namespace, lets the process reach ncu's abstract
Unix sockets. It loads the candidate as the harness does, calls it a few times so that
compilation and autotuning stay outside the profiled range, then opens the range for one call
on the largest shape's first timed input set.
"""

from __future__ import annotations

import sys
from pathlib import Path

from evaluator.sandbox.confine import apply_child_limits
from evaluator.wire.jobs import read_candidate_job

WARMUP_CALLS = 3


def main(argv: list[str]) -> int:
    job_path, limits = Path(argv[1]), argv[2]
    flags = [a for a in argv[3:] if a.startswith("--")]
    read_only = [a for a in argv[3:] if not a.startswith("--")]
    apply_child_limits(
        limits, str(job_path.parent), read_only=read_only, profiler_ipc="--profiler-ipc" in flags
    )
    import torch

    from evaluator.child import runtime as rt
    from evaluator.child.candidate_module import load_candidate_module
    from evaluator.wire import tensor_files

    job = read_candidate_job(job_path)
    module = load_candidate_module(job.candidate_path, job.config)
    torch.manual_seed(job.model_seed)
    model = module.ModelNew(*tensor_files.load_tensors(job.init_inputs_path)).to("cuda:0").eval()
    inputs = rt.to_device(tensor_files.load_tensors(job.timings[-1].inputs_paths[0]), "cuda:0")
    with torch.no_grad():
        for _ in range(WARMUP_CALLS):
            model(*inputs)
        torch.cuda.synchronize()
        torch.cuda.profiler.start()
        model(*inputs)
        torch.cuda.synchronize()
        torch.cuda.profiler.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
