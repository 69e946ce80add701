"""Landlock, applied by a candidate's process to itself before any candidate code runs.

Reads are limited to the Python installation, Crucible's own evaluator and kernels packages,
system libraries and device files; writes to the candidate's own work directory. The
reference's expected outputs, other candidates and the store are simply not there. Where the
kernel supports it, TCP bind/connect and signals to processes outside the sandbox are denied
too. Unprivileged, no dependencies: raw syscalls through ctypes.
"""

from __future__ import annotations

import ctypes
import os
import platform
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = EXECUTE | READ_FILE | READ_DIR
# Memory shared between processes, mounted under /dev. Files other processes keep there (a Ray
# object store, say) are not a candidate's to read or overwrite.
SHARED_MEMORY_DIRS = frozenset({"shm", "mqueue", "hugepages"})
# GPU device nodes: NVIDIA's (nvidia0, nvidiactl, nvidia-uvm, nvidia-caps/), AMD's and DRM's.
ACCELERATOR_NODES = ("nvidia", "kfd", "dri")
SYSTEM_READ_ROOTS = ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/opt", "/proc", "/sys", "/run")


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI, or 0 where Landlock is missing or disabled."""
    numbers = SYSCALLS.get(platform.machine())
    if numbers is None or not sys.platform.startswith("linux"):
        return 0
    version = _libc().syscall(numbers[0], None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(0, int(version))


def _handled_fs(abi: int) -> int:
    handled = (1 << 13) - 1
    if abi >= 2:
        handled |= REFER
    if abi >= 3:
        handled |= TRUNCATE
    if abi >= 5:
        handled |= IOCTL_DEV
    return handled


def default_read_paths() -> list[str]:
    """The installation and Crucible's own packages: what a candidate's process must read."""
    import evaluator
    import kernels

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, *SYSTEM_READ_ROOTS}
    paths.update(p for p in sys.path if p and os.path.isdir(p))
    paths.update(str(Path(m.__file__).parent) for m in (evaluator, kernels) if m.__file__)
    return sorted(paths)


def device_paths(shared_memory: bool, accelerators: bool = True, root: str = "/dev") -> list[str]:
    """The device nodes and folders under /dev; the shared-memory folders only if asked for, and the
    GPUs' only if ``accelerators``: a candidate timed on the CPU must not reach a GPU of the host,
    whatever it does to ``CUDA_VISIBLE_DEVICES``.

    Symbolic links (``/dev/fd``, ``/dev/stdout``) lead under ``/proc/self``, which has its own rule.
    """
    if shared_memory and accelerators:
        return [root]
    hidden_dirs = frozenset() if shared_memory else SHARED_MEMORY_DIRS
    hidden_prefixes = () if accelerators else ACCELERATOR_NODES
    paths = []
    for entry in os.scandir(root):
        if entry.name in hidden_dirs or entry.name.startswith(hidden_prefixes):
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            continue  # gone since the listing
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISDIR(mode):
            paths.append(entry.path)
    return sorted(paths)


def restrict(
    write_paths: Iterable[str],
    read_paths: Iterable[str] | None = None,
    *,
    scope_abstract_sockets: bool = True,
    shared_memory: bool = False,
    accelerators: bool = True,
) -> int:
    """Confine this process (and its future children) for good. Returns the ABI used (0: not applied).

    ``scope_abstract_sockets=False`` lets the process reach abstract Unix sockets that processes
    outside its domain listen on. Those sockets belong to a network namespace, so inside one of
    its own the process reaches only its own namespace's: the ncu target needs that to talk to
    the ncu that watches it. ``shared_memory=True`` leaves the files under ``/dev/shm`` (and the
    other shared-memory folders) open to read and write, as a profiler's target may need.
    """
    abi = abi_version()
    if abi == 0:
        return 0
    libc = _libc()
    create, add_rule, restrict_self = SYSCALLS[platform.machine()]
    handled = _handled_fs(abi)
    attr = _RulesetAttr(
        handled,
        NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
        ((SCOPE_ABSTRACT_UNIX_SOCKET if scope_abstract_sockets else 0) | SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        writable = handled & ~(MAKE_CHAR | MAKE_BLOCK)
        device_access = READ_FILE | WRITE_FILE | READ_DIR | (IOCTL_DEV if abi >= 5 else 0)
        rules = [(p, READ) for p in (read_paths if read_paths is not None else default_read_paths())]
        rules += [("/dev", READ_DIR)] + [
            (p, device_access) for p in device_paths(shared_memory, accelerators)
        ]
        # The CUDA driver opens files of its own process under /proc for writing (with O_TRUNC) at
        # init, and fails with "OS call failed" when it may not. /proc/self resolves to this
        # process alone, so nothing system-wide under /proc becomes writable.
        rules += [("/proc/self", READ_FILE | WRITE_FILE | TRUNCATE)]
        rules += [(p, writable) for p in write_paths]
        for path, access in rules:
            _add_rule(libc, add_rule, ruleset, path, access & handled)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(restrict_self, ruleset, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    return abi


def _add_rule(libc: ctypes.CDLL, syscall_no: int, ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path this machine does not have needs no rule
    try:
        if not os.path.isdir(path):
            access &= READ_FILE | WRITE_FILE | EXECUTE | TRUNCATE | IOCTL_DEV
        beneath = _PathBeneathAttr(access, fd)
        if (
            libc.syscall(syscall_no, ruleset, RULE_PATH_BENEATH, ctypes.byref(beneath), ctypes.c_uint32(0))
            != 0
        ):
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)
