"""``python -m service.api.validate_problem FILE [OVERRIDES_JSON]``: load an uploaded problem file in a
process of its own and write one JSON verdict (``Verdict``) on stdout.

The API server never imports an upload: it runs this module in a fresh process (see
``service.api.uploads``) under a wall-clock timeout, and reads back either the loaded problem's
plain data (its shapes and tolerances, enough to queue a run without importing it again) or the
reason it was refused. Before the upload runs, this process limits itself: no core files, a
bound on the files it writes and on its CPU time, and, where the kernel has Landlock, reads of
the Python installation and the upload's own folder only, writes to its working directory only,
and no TCP. Whatever the upload prints goes to stderr; the verdict alone goes to stdout. A module
that exits, hangs or crashes at import gives no verdict, and the server says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from kernels.errors import CrucibleError
from kernels.problem import Problem, Shape, SizeValue, Tolerance, load_problem

FILE_SIZE_LIMIT = 16 * 1024 * 1024  # bytes any one file of the process may grow to (its stderr too)
CPU_SECONDS = 120  # a backstop; the server's wall-clock timeout is the real bound


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShapeSpec(_Wire):
    """One shape of the loaded problem, as ``kernels.problem.Shape`` holds it."""

    name: str
    sizes: dict[str, SizeValue]
    devices: tuple[str, ...]
    flops: float | None
    bytes_moved: float | None


class ToleranceSpec(_Wire):
    atol: float
    rtol: float


class ProblemSpec(_Wire):
    """The loaded problem's plain data: with its file's source, a ``Problem`` again."""

    name: str
    source_sha256: str
    shapes: tuple[ShapeSpec, ...] = Field(min_length=1)
    tolerances: dict[str, ToleranceSpec]

    @classmethod
    def from_problem(cls, problem: Problem) -> ProblemSpec:
        return cls(
            name=problem.name,
            source_sha256=source_sha256(problem.source),
            shapes=tuple(
                ShapeSpec(
                    name=s.name,
                    sizes=dict(s.sizes),
                    devices=tuple(s.devices),
                    flops=s.flops,
                    bytes_moved=s.bytes_moved,
                )
                for s in problem.shapes
            ),
            tolerances={k: ToleranceSpec(atol=t.atol, rtol=t.rtol) for k, t in problem.tolerances.items()},
        )

    def to_problem(self, path: Path, source: str, overrides: dict[str, int]) -> Problem:
        if source_sha256(source) != self.source_sha256:
            raise CrucibleError(f"problem file {path} changed since it was validated; upload it again")
        return Problem(
            name=self.name,
            path=path,
            source=source,
            shapes=tuple(
                Shape(s.name, dict(s.sizes), s.devices, s.flops, s.bytes_moved) for s in self.shapes
            ),
            tolerances={k: Tolerance(t.atol, t.rtol) for k, t in self.tolerances.items()},
            overrides=dict(overrides),
            builtin=False,
        )


class Verdict(_Wire):
    """What the validator says: the problem when it loaded, else why not."""

    ok: bool
    error: str | None = None
    problem: ProblemSpec | None = None


def source_sha256(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _limit_self(problem_dir: Path) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    import site

    import evaluator
    import kernels
    import service
    from evaluator.sandbox import landlock

    reads = {*landlock.SYSTEM_READ_ROOTS, sys.prefix, sys.base_prefix, sys.exec_prefix, str(problem_dir)}
    reads.update(p for p in site.getsitepackages() if os.path.isdir(p))
    reads.update(str(Path(m.__file__).parent) for m in (evaluator, kernels, service) if m.__file__)
    try:
        landlock.restrict([os.getcwd()], sorted(reads), accelerators=False)
    except OSError as exc:  # defence in depth: the process boundary and the timeout still hold
        print(f"validate_problem: Landlock not applied: {exc}", file=sys.stderr)


def validate(path: Path, overrides: dict[str, int]) -> Verdict:
    try:
        problem = load_problem(path, overrides)
    except CrucibleError as exc:
        return Verdict(ok=False, error=str(exc))
    except BaseException as exc:  # the process boundary: the upload's own code raised past the loader
        return Verdict(ok=False, error=f"problem file {path} failed to load: {type(exc).__name__}: {exc}")
    return Verdict(ok=True, problem=ProblemSpec.from_problem(problem))


def main(argv: list[str]) -> None:
    path = Path(argv[0]).resolve()
    overrides = {str(k): int(v) for k, v in json.loads(argv[1]).items()} if len(argv) > 1 else {}
    verdict_fd = os.dup(1)
    os.dup2(2, 1)  # the upload's prints (and anything it writes to fd 1) go to stderr
    _limit_self(path.parent)
    verdict = validate(path, overrides)
    os.write(verdict_fd, verdict.model_dump_json().encode() + b"\n")
    sys.stderr.flush()
    os._exit(0)  # no atexit handler or leftover thread of the upload runs after the verdict


if __name__ == "__main__":
    main(sys.argv[1:])
