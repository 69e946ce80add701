"""The candidate's process: load ModelNew under its CONFIG, run the correctness trials, time it.

Run as ``python -m evaluator.child.harness JOB_JSON MESSAGE_FD LIMITS [READ_ONLY_DIR ...]``. It never
sees reference outputs: it writes its own outputs to files, and the parent compares them. This
module is the process boundary: limits first, then the stages (``evaluator.child.candidate_run``), and
whatever escapes them becomes a status.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from evaluator.child.leftovers import become_subreaper
from evaluator.sandbox.confine import apply_child_limits
from evaluator.types import Stage, Status
from evaluator.wire.jobs import CandidateJob, read_candidate_job
from evaluator.wire.messages import Channel, StageEntered, Verdict


def run(job: CandidateJob, channel: Channel) -> None:
    from evaluator.child.candidate_run import CandidateRun

    stages = CandidateRun(job, channel)
    if stages.load() and stages.correctness() and stages.timing():
        channel.send(StageEntered(Stage.DONE))


def main(argv: list[str]) -> int:
    job_path, fd, limits = argv[1], int(argv[2]), argv[3]
    apply_child_limits(limits, str(Path(job_path).parent), read_only=argv[4:])
    become_subreaper()  # a grandchild the candidate orphans comes back here, where the checks look
    channel = Channel(fd)
    job = read_candidate_job(Path(job_path))
    try:
        run(job, channel)
    except MemoryError:
        channel.send(Verdict(Status.OUT_OF_MEMORY, "MemoryError in the evaluator harness"))
    except Exception as exc:  # the process boundary: anything unexpected becomes a status
        reason = f"harness error: {type(exc).__name__}: {exc}"
        channel.send(Verdict(Status.RUNTIME_ERROR, reason, traceback.format_exc()[-2000:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
