"""The problems the MCP tools can name, resolved without running a user's file in the server.

A tool's ``problem`` is a built-in's name, a name ``create_problem`` kept (an upload, exactly as
the HTTP API keeps them: ``service.api.uploads``), or a path to a KernelBench-format file. A
built-in is Crucible's own code and loads here, as the API loads it. An upload is rebuilt from
its stored verdict. A path is loaded by the API's validator, in a fresh confined process under
a timeout, and rebuilt from its verdict, so neither an upload nor a path is imported by the
server; the evaluator's and the workers' child processes are the only places they run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

from kernels.errors import ProblemError
from kernels.export import safe_name
from kernels.families import load_families
from kernels.problem import Problem, builtin_names, load_problem, resolve_problem_path
from service.api.catalog import ProblemCatalog
from service.api.uploads import ProblemUploads, run_validator, uploads_directory
from service.mcp.documents import ProblemCreatedOut
from service.schemas.api import MAX_PROBLEM_SOURCE_CHARS
from service.settings import Settings

VALIDATION_TIMEOUT_S = 60.0  # as the API gives one upload's validation
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # service.schemas.api.ProblemName


class ProblemResolver:
    """Built-ins, uploads kept beside the store, and problem files on this machine."""

    def __init__(self, settings: Settings, *, timeout_s: float = VALIDATION_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self.uploads = ProblemUploads(uploads_directory(settings), timeout_s=timeout_s)
        self.catalog = ProblemCatalog(self.uploads)

    def resolve(self, ref: str) -> Problem:
        """The named problem, or ProblemError naming every kind of reference it could have been."""
        text = ref.strip()
        if text in builtin_names():
            return load_problem(text)
        if NAME_PATTERN.match(text) and self.uploads.has(text):
            return self.uploads.load(text)
        if "/" in text or text.endswith(".py"):
            return self._load_file(Path(text).expanduser())
        kept = ", ".join(self.uploads.names()) or "none yet"
        raise ProblemError(
            f"unknown problem {text!r}: not a built-in ({', '.join(builtin_names())}), not a name"
            f" kept by create_problem ({kept}), and not a path to a .py file"
        )

    def _load_file(self, path: Path) -> Problem:
        _, resolved, builtin = resolve_problem_path(path.absolute())  # ProblemError: missing, not .py
        if builtin:
            return load_problem(resolved)
        spec = run_validator(resolved, {}, self.timeout_s)
        source = _read_source(resolved)
        return spec.to_problem(resolved, source, {})

    def create(self, path_or_source: str, name: str | None) -> ProblemCreatedOut:
        """Validate a problem file (a path, or its source text) in its own process and keep it."""
        source_file = _as_path(path_or_source)
        if source_file is not None:
            source = _read_source(source_file)
            name = name or _name_from(source_file.stem)
        else:
            source = path_or_source
            name = name or f"problem_{hashlib.sha256(source.encode()).hexdigest()[:8]}"
        if not NAME_PATTERN.match(name):
            raise ProblemError(
                f"problem name {name!r} is not usable: 1-64 letters, digits, '_' or '-', starting with"
                " a letter or digit"
            )
        described, created = self.uploads.add(name, source)
        families: tuple[str, ...] = ()
        run_with = name
        if source_file is not None:
            kept = self.uploads.load(name)
            beside = load_families(dataclasses.replace(kept, path=source_file))
            if beside:
                families, run_with = tuple(f.name for f in beside), str(source_file)
        return ProblemCreatedOut(
            name=name,
            created=created,
            problem=described,
            source_file=source_file,
            run_with=run_with,
            families=families,
        )


def _as_path(text: str) -> Path | None:
    """A one-line argument is a path (which must exist); anything longer is the file's source."""
    stripped = text.strip()
    if "\n" in stripped:
        return None
    path = Path(stripped).expanduser().absolute()
    if not path.exists():
        raise ProblemError(
            f"problem file {path} does not exist; give an existing .py file, or the file's source text"
        )
    if not path.is_file() or path.suffix != ".py":
        raise ProblemError(f"problem file {path} must be a .py file")
    return path


def _read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProblemError(f"problem file {path} cannot be read: {exc}") from None
    if len(data) > MAX_PROBLEM_SOURCE_CHARS:
        raise ProblemError(
            f"problem file {path} is {len(data)} bytes; the limit is {MAX_PROBLEM_SOURCE_CHARS}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError(f"problem file {path} is not UTF-8 text") from None


def _name_from(stem: str) -> str:
    name = safe_name(stem)[:64]
    return name if NAME_PATTERN.match(name) else f"p{name}"[:64]
