"""The pre-flight process: import the candidate on the CPU, with no GPU visible, and report.

Run as ``python -m evaluator.child.preflight JOB_JSON MESSAGE_FD LIMITS`` in the candidate's
sandbox. Only failures that cannot depend on the device become verdicts: a syntax error, a
module that cannot be found, a name a module does not have, no ``ModelNew``. Anything else
raised at import (a call into CUDA, or an extension built at import that fails to load without
a GPU) is left for the evaluation on the GPU to judge.
"""

from __future__ import annotations

import sys
from pathlib import Path

from evaluator.sandbox.confine import apply_child_limits
from evaluator.types import Stage, Status
from evaluator.wire.jobs import read_preflight_job
from evaluator.wire.messages import Channel, StageEntered, Verdict


def check(candidate_path: str, config: dict[str, object], channel: Channel) -> None:
    from evaluator.child.candidate_module import load_candidate_module

    try:
        module = load_candidate_module(candidate_path, config)
    except SyntaxError as exc:
        reason = f"syntax error at line {exc.lineno}: {exc.msg}"
        return channel.send(Verdict(Status.COMPILE_ERROR, reason))
    except ImportError as exc:
        if not _names_a_missing_module(exc):
            return channel.send(StageEntered(Stage.DONE, f"{type(exc).__name__}: {exc}"[:300]))
        reason = f"import failed: {type(exc).__name__}: {exc}"
        return channel.send(Verdict(Status.COMPILE_ERROR, reason))
    except Exception as exc:  # may depend on the device: the GPU evaluation decides
        return channel.send(StageEntered(Stage.DONE, f"{type(exc).__name__}: {exc}"[:300]))
    import torch

    model_cls = getattr(module, "ModelNew", None)
    if not isinstance(model_cls, type) or not issubclass(model_cls, torch.nn.Module):
        reason = "the module does not define class ModelNew(torch.nn.Module)"
        return channel.send(Verdict(Status.REJECTED, reason))
    return channel.send(StageEntered(Stage.DONE))


def _names_a_missing_module(exc: ImportError) -> bool:
    """No such module, or no such name in a module: true on any device."""
    return isinstance(exc, ModuleNotFoundError) or str(exc).startswith("cannot import name")


def main(argv: list[str]) -> int:
    job_path, fd, limits = Path(argv[1]), int(argv[2]), argv[3]
    apply_child_limits(limits, str(job_path.parent))
    job = read_preflight_job(job_path)
    check(job.candidate_path, job.config, Channel(fd))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
