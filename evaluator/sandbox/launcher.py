"""The first process of a candidate's sandbox: starts the harness, then leaves nothing behind.

It makes itself a child subreaper, so anything the candidate double-forks is re-parented
here and killed once the harness exits. Inside a PID namespace it is process 1, and the
kernel kills whatever is left when it exits. It passes the harness's fate on: the same exit
code, or for a signal the same signal (``128 + N`` as process 1, which cannot signal itself).

Run as ``python -m evaluator.sandbox.launcher MESSAGE_FD CGROUP_PROCS <command...>``: the message pipe
stays open for the harness, and ``CGROUP_PROCS`` (comma-separated ``cgroup.procs`` files, or
``-``) is the group the launcher joins first, so every descendant is counted against its limits.

It also watches that pipe: once nobody reads it, the evaluator that started the candidate is
gone (killed, or its machine's worker died), and the stage deadlines it enforced with it, so the
launcher ends the candidate itself rather than leave a hung kernel running for good.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys

import psutil

from evaluator.child.leftovers import become_subreaper
from evaluator.sandbox.cgroups import join


def reap_descendants() -> None:
    for proc in psutil.Process().children(recursive=True):
        try:
            proc.kill()
        except psutil.Error:
            continue
    for proc in psutil.Process().children(recursive=True):
        try:
            proc.wait(timeout=5)
        except psutil.Error:
            continue


def wait_while_read(child: subprocess.Popen[bytes], message_fd: int, every_s: float = 0.5) -> int:
    """The child's exit code; the child is killed first if the message pipe loses its reader."""
    watch = select.poll()
    watch.register(message_fd, select.POLLERR)  # on a pipe's write end: no reader is left
    while True:
        try:
            return child.wait(timeout=every_s)
        except subprocess.TimeoutExpired:
            if watch.poll(0):
                child.kill()
                return child.wait()


def main(argv: list[str]) -> int:
    become_subreaper()
    if argv[2] != "-":
        join(argv[2].split(","))
    child = subprocess.Popen(argv[3:], pass_fds=(int(argv[1]),))
    code = wait_while_read(child, int(argv[1]))
    reap_descendants()
    if code >= 0:
        return code
    if os.getpid() == 1:
        return 128 - code
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
    return 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
