"""Problem files uploaded through the API: checked in a process of their own, then kept by name.

Where they live: ``problems/`` beside the SQLite database file (``sqlite:///data/crucible.db``
keeps them in ``data/problems/``), so the embedded default keeps all its data in one folder.
With any other database (PostgreSQL), in ``problems/`` under ``CRUCIBLE_WORKDIR``, which must
then be a folder every worker sees at the same path; with neither, uploads are refused with
the reason. Each upload is ``NAME.py`` and the validator's verdict beside it, ``NAME.json``.

The server never imports an upload. ``python -m service.api.validate_problem`` loads it, in a
fresh process with a stripped environment, no GPU, a private working directory and a wall-clock
timeout after which its whole process group is killed; see that module for the limits it sets
on itself. A run queued for an upload is built from the stored verdict (or, with size
overrides, from a fresh verdict for those sizes); the worker that runs it imports the file, as it
does any problem file a user hands it.

A name is kept once: uploading the same source again is a no-op, a different source under a
taken name is refused (runs already queued for it must find the file they were queued with).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url

import service
from kernels.errors import CrucibleError, ProblemError
from kernels.problem import Problem, builtin_names
from service.api.validate_problem import ProblemSpec, Verdict, source_sha256
from service.schemas import ProblemOut, ProblemShapeOut
from service.settings import Settings, process_environment

OUTPUT_TAIL_BYTES = 4096  # of the validator's stderr, quoted when it gives no verdict


class UploadConflict(CrucibleError):
    """The name is a built-in's, or already holds a different upload."""


class UploadsBusy(CrucibleError):
    """Every validation slot is taken; the client should retry shortly."""


def uploads_directory(settings: Settings) -> Path | None:
    """``problems/`` beside a SQLite database file, else under the workdir, else None (no uploads)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().resolve().parent / "problems"
    if settings.workdir is not None:
        return settings.workdir.expanduser().resolve() / "problems"
    return None


def _child_env(scratch: Path) -> dict[str, str]:
    """Nothing of the server's environment but PATH: no token, no keys, no database URL, no GPU."""
    return {
        "PATH": process_environment().get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(Path(service.__file__).resolve().parents[1]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
    }


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - OUTPUT_TAIL_BYTES))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def run_validator(path: Path, overrides: Mapping[str, int], timeout_s: float) -> ProblemSpec:
    """Load ``path`` in a fresh process; its problem's plain data, or ProblemError with the reason."""
    import json

    with tempfile.TemporaryDirectory(prefix="crucible-validate-") as tmp:
        scratch = Path(tmp)
        out_path, err_path = scratch / "verdict.json", scratch / "stderr.txt"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "service.api.validate_problem",
                    str(path),
                    json.dumps(dict(overrides)),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=scratch,
                env=_child_env(scratch),
                start_new_session=True,  # its own process group, killed whole on a timeout
            )
            try:
                code = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait()
                raise ProblemError(
                    f"problem file {path.name}: loading it did not finish within {timeout_s:g} s"
                    " (a loop or a long computation at import?)"
                ) from None
            finally:
                _kill_group(proc.pid)  # anything it left running in its group
        text = out_path.read_bytes()[: 1024 * 1024]
        try:
            verdict = Verdict.model_validate_json(text.splitlines()[0] if text else b"")
        except (ValidationError, IndexError):
            detail = _tail(err_path)
            raise ProblemError(
                f"problem file {path.name}: the process loading it exited with status {code}"
                f" before giving a verdict{': ' + detail[-500:] if detail else ''}"
            ) from None
    if not verdict.ok or verdict.problem is None:
        reason = verdict.error or "refused without a reason"
        raise ProblemError(reason.replace(f"{path.resolve().parent}/", ""))
    return verdict.problem


class ProblemUploads:
    """The uploaded problems of one server: listing, adding (validated) and loading them."""

    def __init__(self, directory: Path | None, *, timeout_s: float, max_parallel: int = 2) -> None:
        self.directory = directory
        self.timeout_s = timeout_s
        self._slots = threading.BoundedSemaphore(max_parallel)
        self._lock = threading.Lock()

    def _require_directory(self) -> Path:
        if self.directory is None:
            raise CrucibleError(
                "uploads need a folder every worker sees: set CRUCIBLE_WORKDIR"
                " (or use a SQLite database file)"
            )
        return self.directory

    def _paths(self, name: str) -> tuple[Path, Path] | None:
        if self.directory is None:
            return None
        return self.directory / f"{name}.py", self.directory / f"{name}.json"

    def names(self) -> list[str]:
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json") if p.with_suffix(".py").is_file())

    def has(self, name: str) -> bool:
        paths = self._paths(name)
        return paths is not None and paths[0].is_file() and paths[1].is_file()

    def _stored(self, name: str) -> tuple[Path, str, ProblemSpec]:
        paths = self._paths(name)
        if paths is None or not self.has(name):
            raise ProblemError(f"no uploaded problem {name!r}")
        source_path, spec_path = paths
        try:
            spec = ProblemSpec.model_validate_json(spec_path.read_bytes())
            source = source_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValidationError) as exc:
            raise ProblemError(f"uploaded problem {name!r} cannot be read back: {exc}") from None
        return source_path, source, spec

    def load(self, name: str, overrides: Mapping[str, int] | None = None) -> Problem:
        """The upload as a ``Problem``, without importing it here; overrides get a fresh verdict."""
        path, source, spec = self._stored(name)
        if overrides:
            with self._slot():
                spec = run_validator(path, overrides, self.timeout_s)
        return spec.to_problem(path, source, dict(overrides or {}))

    def describe(self, name: str) -> ProblemOut:
        path, _, spec = self._stored(name)
        return describe(spec, path)

    def all(self) -> list[ProblemOut]:
        found = []
        for name in self.names():
            try:
                found.append(self.describe(name))
            except ProblemError:
                continue  # half-written or damaged: not listed, and POST /runs says why
        return found

    def add(self, name: str, source: str) -> tuple[ProblemOut, bool]:
        """Validate and keep ``source`` as ``name``; (its description, whether it is new)."""
        directory = self._require_directory()
        if name in builtin_names():
            raise UploadConflict(f"{name!r} is a built-in problem's name; upload it under another name")
        try:
            source.encode("utf-8")
        except UnicodeEncodeError:
            raise ProblemError(f"problem file {name}.py: the source is not valid Unicode text") from None
        source = source.replace("\r\n", "\n").replace("\r", "\n")  # as reading the file back gives it
        if self.has(name):
            return self._same_or_conflict(name, source), False
        source_path, spec_path = directory / f"{name}.py", directory / f"{name}.json"
        with self._slot(), tempfile.TemporaryDirectory(prefix="crucible-upload-") as tmp:
            staged = Path(tmp) / f"{name}.py"
            staged.write_text(source, encoding="utf-8")
            spec = run_validator(staged, {}, self.timeout_s)
            if spec.name != name or spec.source_sha256 != source_sha256(source):
                raise ProblemError(f"problem file {name}.py: the validator described another file")
            directory.mkdir(parents=True, exist_ok=True)
            with self._lock:
                if self.has(name):
                    return self._same_or_conflict(name, source), False
                for target, text in ((source_path, source), (spec_path, spec.model_dump_json(indent=2))):
                    part = target.with_name(f".{target.name}.part")
                    part.write_text(text, encoding="utf-8")
                    os.replace(part, target)  # the .json last: a name is listed once both exist
        return describe(spec, source_path), True

    def _same_or_conflict(self, name: str, source: str) -> ProblemOut:
        path, stored, spec = self._stored(name)
        if stored != source:
            raise UploadConflict(
                f"a different problem is already uploaded as {name!r}; upload this one under another name"
            )
        return describe(spec, path)

    def _slot(self) -> _Slot:
        return _Slot(self._slots)


class _Slot:
    """One of the validation slots, refused (not waited for) when all are taken."""

    def __init__(self, semaphore: threading.BoundedSemaphore) -> None:
        self._semaphore = semaphore

    def __enter__(self) -> None:
        if not self._semaphore.acquire(blocking=False):
            raise UploadsBusy("other problem files are being validated; retry in a few seconds")

    def __exit__(self, *exc: object) -> None:
        self._semaphore.release()


def describe(spec: ProblemSpec, path: Path) -> ProblemOut:
    return ProblemOut(
        name=spec.name,
        path=path,
        builtin=False,
        scaled_down=False,
        overrides={},
        families=(),
        shapes=tuple(
            ProblemShapeOut(
                name=s.name, sizes=dict(s.sizes), devices=s.devices, flops=s.flops, bytes_moved=s.bytes_moved
            )
            for s in spec.shapes
        ),
    )
