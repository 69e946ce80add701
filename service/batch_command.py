"""``crucible evaluate DIR CANDIDATES_DIR`` and ``crucible optimize DIR``: a folder as a batch.

``evaluate`` judges ``CANDIDATES_DIR/NAME.py`` against each ``DIR/NAME.py``, as KernelBench's
harness does, one problem after another with a progress bar. ``optimize`` queues one run per
problem through the same path as ``crucible optimize``; without ``--queue`` it then runs them
here, one after another, as a worker would. Both end with the batch's scores
(``service.batch``) as a table or, with ``--json``, one document. A problem that does not load,
or has no candidate, is a line of the table with the reason, never the end of the batch.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evaluator.evaluate import Evaluator
from evaluator.types import EvalResult
from kernels.candidate import make_candidate, read_candidate_file, read_config_space
from kernels.errors import CrucibleError
from kernels.problem import load_problem
from service import render
from service.batch import BatchSummary, ProblemOutcome, problem_files, summarize
from service.runner import create_run, device_for, execute_run
from service.schemas import BatchOut
from service.settings import Settings
from store.repository import Store


def outcome_of(name: str, path: Path, result: EvalResult, **ids: int | None) -> ProblemOutcome:
    shares = [s.peak_fraction for s in result.shapes if s.peak_fraction is not None]
    return ProblemOutcome(
        name,
        path,
        result.status.value,
        result.ok,
        result.speedup,
        sum(shares) / len(shares) if shares else None,
        result.reason,
        **ids,
        speedup_vs_compiled=result.speedup_vs_compiled,
    )


def evaluate_folder(
    settings: Settings,
    problems_dir: Path,
    candidates_dir: Path,
    *,
    device: str,
    sizes: Callable[[Path], dict[str, int]],
    as_json: bool,
    out: Console,
    err: Console,
) -> int:
    """Exit status 0 when every problem's candidate passed, 1 otherwise. ``sizes`` gives each
    problem file's size overrides (``--size``, ``--scale-to-cpu``)."""
    if not candidates_dir.is_dir():
        raise CrucibleError(f"{candidates_dir} is not a folder of candidate files")
    target = device_for(device, settings)
    files = problem_files(problems_dir)

    def judge(path: Path) -> ProblemOutcome:
        candidate_path = candidates_dir / path.name
        if not candidate_path.is_file():
            return ProblemOutcome(path.stem, path, "no_candidate", False, None, None, f"no {candidate_path}")
        problem = load_problem(path, sizes(path))
        source = read_candidate_file(candidate_path)
        candidate = make_candidate(source, {k: v[0] for k, v in read_config_space(source).items()})
        limits = settings.eval_limits()
        evaluator = Evaluator(problem, target, limits, secrets.randbits(31), workroot=settings.workdir)
        try:
            return outcome_of(path.stem, path, evaluator.evaluate(candidate))
        finally:
            evaluator.close()

    summary = summarize(_each(files, judge, err, as_json, verb="evaluating"))
    _report(summary, target, as_json, out)
    return 0 if summary.correctness == 1.0 else 1


def optimize_folder(
    settings: Settings,
    problems_dir: Path,
    *,
    budget: int,
    device: str,
    proposer: str,
    slots: int,
    queue: bool,
    sizes: Callable[[Path], dict[str, int]],
    as_json: bool,
    out: Console,
    err: Console,
) -> int:
    """Exit status 0 when every problem got a passing candidate (or every run was queued)."""
    target = device_for(device, settings)
    files = problem_files(problems_dir)
    with Store(settings.database_url) as store:

        def run_one(path: Path) -> ProblemOutcome:
            problem = load_problem(path, sizes(path))
            run_id = create_run(
                store,
                problem,
                device=target,
                budget=budget,
                proposer=proposer,
                limits=settings.eval_limits(),
                slots=slots,
                settings=settings,
            )
            if queue:
                return ProblemOutcome(path.stem, path, "queued", False, None, None, "", run_id)
            execute_run(store, settings, run_id)
            best = store.best_candidate(run_id)
            if best is None or best.result is None:
                final = store.get_run(run_id)
                reason = final.error or "no candidate passed"
                return ProblemOutcome(path.stem, path, final.status.value, False, None, None, reason, run_id)
            return outcome_of(path.stem, path, best.result, run_id=run_id, candidate_id=best.id)

        summary = summarize(_each(files, run_one, err, as_json, verb="optimizing"))
    _report(summary, target, as_json, out)
    if queue:
        return 0 if all(o.status == "queued" for o in summary.outcomes) else 1
    return 0 if summary.correctness == 1.0 else 1


def _each(
    files: list[Path], work: Callable[[Path], ProblemOutcome], err: Console, quiet: bool, *, verb: str
) -> list[ProblemOutcome]:
    """Run ``work`` on every file with a progress bar; a problem that cannot be loaded or run
    becomes an outcome with its reason."""
    outcomes = []
    progress = Progress(
        TextColumn(f"[bold]{verb}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[name]}"),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
    )
    with progress:
        task = progress.add_task(verb, total=len(files), name="")
        for path in files:
            progress.update(task, name=path.stem)
            try:
                outcomes.append(work(path))
            except CrucibleError as exc:  # a bad file or a refused run: this problem only
                outcomes.append(ProblemOutcome(path.stem, path, "bad_problem", False, None, None, str(exc)))
            progress.advance(task)
    return outcomes


def _report(summary: BatchSummary, device: str, as_json: bool, out: Console) -> None:
    if as_json:
        render.emit_json(BatchOut.from_summary(summary, device))
        return
    table = Table(title=f"{len(summary.outcomes)} problems on {device}")
    for column in ("problem", "status", "speedup", "share of peak", "run", "reason"):
        table.add_column(column, justify="right" if column in ("speedup", "share of peak", "run") else "left")
    for o in summary.outcomes:
        table.add_row(
            o.problem,
            o.status,
            "-" if o.speedup is None else f"{o.speedup:.2f}x",
            "-" if o.peak_fraction is None else f"{o.peak_fraction:.0%}",
            "-" if o.run_id is None else str(o.run_id),
            escape(o.reason[:80]),
        )
    out.print(table)
    geomean = "-" if summary.geomean_speedup is None else f"{summary.geomean_speedup:.2f}x"
    fast = "  ".join(f"{k} {v:.0%}" for k, v in summary.fast_p.items())
    roofline = "-" if summary.roofline_share is None else f"{summary.roofline_share:.0%}"
    out.print(
        f"correct {summary.correctness:.0%}  geomean speedup {geomean}  {fast}  share of peak {roofline}"
    )
    if summary.geomean_vs_compiled is not None and summary.fast_p_vs_compiled is not None:
        fast = "  ".join(f"{k} {v:.0%}" for k, v in summary.fast_p_vs_compiled.items())
        out.print(f"against torch.compile: geomean speedup {summary.geomean_vs_compiled:.2f}x  {fast}")
