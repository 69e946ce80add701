"""``crucible evaluate PROBLEM CANDIDATE``: one verdict with its per-shape metrics."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from evaluator.evaluate import Evaluator
from evaluator.hardware.devices import check_device_available
from evaluator.phases import describe as describe_phases
from kernels.candidate import make_candidate, read_candidate_file, read_config_space
from kernels.problem import load_problem
from service import render
from service.cli_options import coerce_config_value
from service.schemas import EvaluateOut
from service.settings import Settings


def run_evaluate(
    settings: Settings,
    problem: str,
    candidate: Path,
    *,
    device: str,
    choices: dict[str, str],
    sizes: dict[str, int],
    seed: int,
    verbose: bool,
    as_json: bool,
    out: Console,
    err: Console,
) -> int:
    """Exit status 0 when the candidate passed, 1 when it did not."""

    loaded = load_problem(problem, sizes)
    source = read_candidate_file(candidate)
    space = read_config_space(source)
    chosen = {k: coerce_config_value(v, space.get(k, [])) for k, v in choices.items()}
    cand = make_candidate(source, chosen)
    target = check_device_available(device)
    evaluator = Evaluator(
        loaded,
        target,
        settings.eval_limits(),
        seed,
        workroot=settings.workdir,
        keep_workdirs=settings.keep_workdirs,
    )
    try:
        with err.status(f"evaluating {candidate.name} on {target}..."):
            result = evaluator.evaluate(cand)
    finally:
        evaluator.close()
    if as_json:
        render.emit_json(EvaluateOut.from_evaluation(result, cand))
    else:
        out.print(f"{render.status_text(result)} at stage {result.stage.value}: {result.reason}")
        if result.shapes:
            out.print(render.shapes_table(result))
            if verbose:
                out.print(render.shape_details_table(result))
        out.print(f"speedup: {render.speedup_text(result)} on {target} (config: {cand.config})")
        if result.profile:
            out.print(f"profile: {escape(result.profile.summary)}")
        if result.verification:
            out.print(f"verification: {escape(result.verification)}")
        if result.phase_seconds:
            out.print(f"time: {result.duration_s:.1f} s; {describe_phases(result.phase_seconds)}")
    return 0 if result.ok else 1
