"""Writing an exported kernel into a user's project without ever overwriting their work.

Layout: for a target file ``/proj/model.py`` and problem ``softmax``, the kernel goes to
``/proj/crucible_kernels/softmax/``: ``softmax_kernel.py`` (the module, with its provenance
header; ``Kernel`` is a drop-in for the reference ``Model``), ``softmax_reference.py`` (a copy of
the reference), ``test_softmax_kernel.py`` and ``manifest.json`` (every file's SHA-256), as
``crucible export`` writes them. One folder per problem, so applying a better kernel later
replaces the earlier one; ``crucible_kernels`` has no ``__init__.py``, so it imports as a
namespace package from the target's folder and pytest finds the test on its own.

The rule: a file may be replaced only when Crucible wrote it, which is known from the folder's
``manifest.json`` (a file whose SHA-256 is still the one recorded there; the manifest itself
when it is a Crucible manifest). Any other existing file that would be written, or a recorded
one that has been edited since, refuses the whole call, naming each such file. The export is
made in a temporary folder first and checked against the destination before anything is
written, so a refused call changes nothing. Files are written one by one through a temporary
name and an atomic rename, the manifest last: a call cut short leaves files that a retry sees
as unchanged (same bytes) or still owned (old manifest), never as foreign.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kernels.errors import CrucibleError
from kernels.export import safe_name
from service.exporting import export_from_store, resolve_target
from service.mcp.documents import AppliedFileOut, AppliedOut, FileAction
from store.repository import Store

KERNELS_DIR = "crucible_kernels"
MANIFEST = "manifest.json"


class ApplyRefused(CrucibleError):
    """Writing the kernel would overwrite files Crucible did not write (or that were edited)."""


@dataclass(frozen=True)
class PlannedWrite:
    path: Path
    data: bytes
    action: FileAction
    seen_sha256: str | None  # the replaced file's hash when planned: it must still be there


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kernel_directory(target_file: Path, problem: str) -> Path:
    return target_file.parent / KERNELS_DIR / safe_name(problem)


def recorded_files(manifest: Path) -> dict[str, str] | None:
    """The files a Crucible manifest records (name -> SHA-256); None when there is no such manifest."""
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict) or "format" not in document:
        return None
    files = document.get("files")
    if not isinstance(files, dict):
        return None
    return {str(k): str(v) for k, v in files.items()}


def plan_writes(directory: Path, staged: dict[str, bytes]) -> list[PlannedWrite]:
    """What writing ``staged`` (name -> bytes) into ``directory`` does to each file, manifest last;
    ApplyRefused naming every file that may not be touched."""
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise ApplyRefused(f"{directory} is not a folder Crucible can write into; nothing was written")
    owned = recorded_files(directory / MANIFEST)
    plan: list[PlannedWrite] = []
    refused: list[str] = []
    for name in sorted(staged, key=lambda n: (n == MANIFEST, n)):
        path, data = directory / name, staged[name]
        if path.is_symlink() or (path.exists() and not path.is_file()):
            refused.append(f"{path}: not a regular file")
            continue
        if not path.exists():
            plan.append(PlannedWrite(path, data, "created", None))
            continue
        current = path.read_bytes()
        if current == data:
            plan.append(PlannedWrite(path, data, "unchanged", None))
        elif owned is not None and (name == MANIFEST or owned.get(name) == sha256(current)):
            plan.append(PlannedWrite(path, data, "replaced", sha256(current)))
        elif owned is None:
            refused.append(f"{path}: not written by Crucible (no Crucible {MANIFEST} in that folder)")
        elif name in owned:
            refused.append(f"{path}: edited since Crucible wrote it (its SHA-256 differs from {MANIFEST})")
        else:
            refused.append(f"{path}: not written by Crucible (not listed in its {MANIFEST})")
    if refused:
        raise ApplyRefused(
            "refusing to overwrite files Crucible did not write; nothing was written. "
            + "; ".join(refused)
            + ". Move them away, or apply into another folder."
        )
    return plan


def commit(plan: list[PlannedWrite]) -> None:
    """Write the planned files, each through a temporary name and an atomic rename."""
    for write in plan:
        if write.action == "unchanged":
            continue
        write.path.parent.mkdir(parents=True, exist_ok=True)
        now = write.path.read_bytes() if write.path.is_file() else None
        if (None if now is None else sha256(now)) != write.seen_sha256:
            raise ApplyRefused(f"{write.path} changed while the kernel was being written; it was left alone")
        fd, part = tempfile.mkstemp(prefix=f".{write.path.name}.", suffix=".part", dir=write.path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(write.data)
            os.replace(part, write.path)
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise


def apply_kernel(store: Store, candidate_id: int, target_file: Path) -> AppliedOut:
    """Export candidate ``candidate_id`` into ``crucible_kernels/<problem>/`` beside ``target_file``."""
    target = target_file.expanduser().absolute()
    if not target.is_file():
        raise CrucibleError(
            f"target file {target} does not exist; give the source file the kernel is for (e.g. model.py)"
        )
    record = resolve_target(store, f"c{candidate_id}")  # a clear error unless it passed
    problem = store.get_run(record.run_id).problem_name
    directory = kernel_directory(target, problem)
    with tempfile.TemporaryDirectory(prefix="crucible-apply-") as tmp:
        _, files = export_from_store(store, f"c{candidate_id}", Path(tmp))
        staged = {p.name: p.read_bytes() for p in Path(tmp).iterdir() if p.is_file()}
    plan = plan_writes(directory, staged)
    commit(plan)
    module, test = directory / files.module.name, directory / files.test.name
    return AppliedOut(
        candidate_id=record.id,
        problem=problem,
        directory=directory,
        module=module,
        test=test,
        files=tuple(AppliedFileOut(path=w.path, action=w.action) for w in plan),
        import_line=f"from {KERNELS_DIR}.{directory.name}.{module.stem} import Kernel",
        test_command=f"python -m pytest {test}",
    )
