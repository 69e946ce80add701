"""What OS isolation this machine allows for candidate processes, and the command that applies it.

Layers, each used where the OS allows it and reported with a logged warning where not:

* a new network namespace (no network at all) and a new PID namespace (when its first
  process exits, the kernel kills everything left in it: no orphans), via ``unshare``;
* no capabilities (``setpriv``) when the evaluator runs as root, so the hard resource limits,
  the process limit included, bind and cannot be raised again;
* Landlock, applied by the child to itself (see ``evaluator.sandbox.landlock``): reads limited to the
  installation, writes to the candidate's own directory, no TCP, no signals outside.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass

from evaluator.sandbox import landlock
from evaluator.sandbox.cgroups import create_cgroup

log = logging.getLogger("crucible.sandbox")
DROP_CAPABILITIES = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


@dataclass(frozen=True)
class Isolation:
    network_namespace: bool
    pid_namespace: bool
    drop_capabilities: bool
    landlock_abi: int
    cgroups: bool = False
    warnings: tuple[str, ...] = ()

    def wrap(self, command: list[str]) -> list[str]:
        """Prefix a command with the namespace and privilege-dropping tools this machine allows."""
        prefix: list[str] = []
        if self.network_namespace or self.pid_namespace:
            prefix += ["unshare"]
            if self.network_namespace:
                prefix += ["--net"]
            if self.pid_namespace:
                prefix += ["--pid", "--fork", "--kill-child", "--mount-proc"]
            prefix += ["--"]
        if self.drop_capabilities:
            prefix += DROP_CAPABILITIES
        return prefix + command

    def describe(self) -> dict[str, object]:
        return {
            "network_namespace": self.network_namespace,
            "pid_namespace": self.pid_namespace,
            "drop_capabilities": self.drop_capabilities,
            "landlock_abi": self.landlock_abi,
            "cgroups": self.cgroups,
            "warnings": list(self.warnings),
        }


NO_ISOLATION = Isolation(False, False, False, 0, False, ("OS isolation turned off",))


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def detect_isolation() -> Isolation:
    """Probe once per process; log what is missing so nobody mistakes a weaker sandbox for a strong one."""
    warnings = []
    has_unshare = shutil.which("unshare") is not None
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    userns = [] if root else ["--user", "--map-root-user"]
    netns = has_unshare and _works(["unshare", *userns, "--net", "true"])
    pidns = has_unshare and _works(
        ["unshare", *userns, "--pid", "--fork", "--kill-child", "--mount-proc", "true"]
    )
    if not netns:
        warnings.append(
            "no network namespace (unshare --net not permitted): candidates keep the host network"
        )
    if not pidns:
        warnings.append("no PID namespace: orphans are reaped by the launcher instead of the kernel")
    drop = root and shutil.which("setpriv") is not None and _works([*DROP_CAPABILITIES, "true"])
    if root and not drop:
        warnings.append("running as root without setpriv: candidates keep root's capabilities")
    abi = landlock.abi_version()
    if abi == 0:
        warnings.append("no Landlock: candidates can read and write anything their user can")
    group = create_cgroup(64, None)
    if group is None:
        warnings.append("no cgroup: a candidate's process count is bounded by RLIMIT_NPROC only")
    else:
        group.destroy()
    for warning in warnings:
        log.warning("sandbox: %s", warning)
    return Isolation(netns, pidns and bool(root), drop, abi, group is not None, tuple(warnings))
