"""The problems a run can name over the API: the built-ins, and the uploads (``service.api.uploads``).

A run names its problem; the API never takes a path on the server's disk. Built-ins are loaded
here, as ``crucible optimize`` loads them (they are Crucible's own code); uploads are rebuilt
from their validator's verdict, never imported here.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from kernels.errors import ProblemError
from kernels.families import load_families
from kernels.problem import Problem, builtin_names, load_problem
from service.api.uploads import ProblemUploads
from service.schemas import ProblemListOut, ProblemOut


class ProblemCatalog:
    def __init__(self, uploads: ProblemUploads) -> None:
        self.uploads = uploads
        self._builtins: tuple[ProblemOut, ...] | None = None
        self._lock = threading.Lock()

    def resolve(self, name: str, overrides: Mapping[str, int] | None = None) -> Problem:
        """The named problem with its size overrides; ProblemError naming the known ones if none."""
        if name in builtin_names():
            return load_problem(name, overrides)
        if self.uploads.has(name):
            return self.uploads.load(name, overrides)
        known = ", ".join([*builtin_names(), *self.uploads.names()])
        raise ProblemError(f"unknown problem {name!r}; known: {known} (GET /api/v1/problems lists them)")

    def builtins(self) -> tuple[ProblemOut, ...]:
        """The built-in problems, loaded once per app (they do not change while it runs)."""
        with self._lock:
            if self._builtins is None:
                loaded = [load_problem(name) for name in builtin_names()]
                self._builtins = tuple(
                    ProblemOut.from_problem(p, [f.name for f in load_families(p)]) for p in loaded
                )
            return self._builtins

    def listing(self) -> ProblemListOut:
        """The built-ins, then the uploads, each sorted by name."""
        return ProblemListOut((*self.builtins(), *self.uploads.all()))
