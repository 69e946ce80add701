"""The ``crucible`` command line. Every command has help text and a ``--json`` mode for scripts.

Exit status: 0 on success; 1 when the command ran but the candidate or run failed; 2 for bad
input (a bad problem or candidate file, a bad option), with one message and no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from kernels.errors import CrucibleError
from service import cli_servers
from service.cli_options import (
    DeviceOpt,
    JsonFlag,
    ScaleOpt,
    SizeOpt,
    load_settings,
    parse_pairs,
    problem_sizes,
    size_overrides,
)

if TYPE_CHECKING:
    from service.settings import Settings

app = typer.Typer(
    help="Crucible: evolutionary kernel search that proves every speedup it reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # plain click errors: never truncated into a box on narrow terminals
)
out = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    return load_settings()


@app.command()
def problems(
    path: Annotated[str | None, typer.Argument(help="A problem file (or built-in name) to validate.")] = None,
    size: SizeOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """List the built-in problems, or validate one problem file and show its shapes."""
    from kernels.families import load_families
    from kernels.problem import builtin_names, load_problem
    from service import render
    from service.schemas import ProblemListOut, ProblemOut

    if path:
        problem = load_problem(path, size_overrides(size))
        families = [f.name for f in load_families(problem)]
        if as_json:
            return render.emit_json(ProblemOut.from_problem(problem, families))
        out.print(f"[green]valid[/] problem [bold]{problem.name}[/] ({problem.path})")
        for s in problem.shapes:
            out.print(f"  shape {s.name}: {dict(s.sizes)} on {', '.join(s.devices)}")
        out.print(f"  variant families: {', '.join(families) or 'none'}")
        return None
    loaded = [load_problem(name) for name in builtin_names()]
    by_problem = {p.name: [f.name for f in load_families(p)] for p in loaded}
    if as_json:
        return render.emit_json(
            ProblemListOut(tuple(ProblemOut.from_problem(p, by_problem[p.name]) for p in loaded))
        )
    out.print(render.problems_table(loaded, {k: len(v) for k, v in by_problem.items()}))
    return None


@app.command()
def evaluate(
    problem: Annotated[
        str, typer.Argument(help="A built-in problem name, a problem file, or a folder of problem files.")
    ],
    candidate: Annotated[
        Path, typer.Argument(help="The candidate file defining ModelNew, or a folder of them (NAME.py each).")
    ],
    device: DeviceOpt = None,
    config: Annotated[
        list[str] | None, typer.Option("--config", help="A CONFIG_SPACE choice, KNOB=VALUE (repeatable).")
    ] = None,
    size: SizeOpt = None,
    scale_to_cpu: ScaleOpt = False,
    seed: Annotated[int | None, typer.Option(help="Secret seed for the trials (default: random).")] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show samples, timer, memory, bandwidth and cores.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate one candidate against a problem and print its verdict and metrics.

    With a folder of problems and a folder of candidates (NAME.py for NAME.py), evaluate each pair
    and print the batch's scores: correctness, geometric-mean speedup, fast_p and share of peak."""
    import secrets

    if Path(problem).is_dir():
        from service.batch_command import evaluate_folder

        settings = _settings()
        code = evaluate_folder(
            settings,
            Path(problem),
            candidate,
            device=device or settings.device,
            sizes=lambda path: problem_sizes(path, size, scale_to_cpu, err),
            as_json=as_json,
            out=out,
            err=err,
        )
        raise typer.Exit(code)

    from service.evaluate_command import run_evaluate

    settings = _settings()
    code = run_evaluate(
        settings,
        problem,
        candidate,
        device=device or settings.device,
        choices=parse_pairs(config, "--config"),
        sizes=problem_sizes(problem, size, scale_to_cpu, err),
        seed=seed if seed is not None else secrets.randbits(31),
        verbose=verbose,
        as_json=as_json,
        out=out,
        err=err,
    )
    raise typer.Exit(code)


@app.command()
def optimize(
    problem: Annotated[
        str | None, typer.Argument(help="A built-in problem name, a problem file, or a folder of them.")
    ] = None,
    budget: Annotated[int, typer.Option(help="How many candidates to evaluate in total.")] = 24,
    device: DeviceOpt = None,
    proposer: Annotated[
        str,
        typer.Option(
            help="auto (the LLM when OPENAI_BASE_URL and CRUCIBLE_MODELS are set, else offline), "
            "offline (the built-in autotuner) or llm."
        ),
    ] = "auto",
    slots: Annotated[int, typer.Option(help="Evaluations to run at once on this device.", min=1)] = 1,
    resume: Annotated[int | None, typer.Option(help="Continue an interrupted run by id.")] = None,
    export: Annotated[Path | None, typer.Option(help="Export the best candidate to this directory.")] = None,
    size: SizeOpt = None,
    scale_to_cpu: ScaleOpt = False,
    queue: Annotated[
        bool, typer.Option("--queue", help="Queue the run for the workers instead of running it here.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run an optimization (or resume one) with a progress bar; print the best candidate and the front.

    With a folder of problem files, queue one run per problem and (without --queue) run them here
    one after another, then print the batch's scores: correctness, geomean speedup, fast_p."""
    from service.optimize_command import run_optimize

    if problem is not None and Path(problem).is_dir():
        from service.batch_command import optimize_folder

        if resume is not None or export is not None:
            raise CrucibleError("--resume and --export take one run; a folder makes a run per problem")
        settings = _settings()
        code = optimize_folder(
            settings,
            Path(problem),
            budget=budget,
            device=device or settings.device,
            proposer=proposer,
            slots=slots,
            queue=queue,
            sizes=lambda path: problem_sizes(path, size, scale_to_cpu, err),
            as_json=as_json,
            out=out,
            err=err,
        )
        raise typer.Exit(code)

    if resume is None and problem is None:
        raise CrucibleError("give a PROBLEM to optimize, or --resume RUN to continue a run")
    if queue and resume is not None:
        raise CrucibleError("--queue starts a new run; a queued run that stopped is resumed by the workers")
    settings = _settings()
    code = run_optimize(
        settings,
        problem=problem,
        budget=budget,
        device=device or settings.device,
        proposer=proposer,
        slots=slots,
        resume=resume,
        export=export,
        overrides=problem_sizes(problem, size, scale_to_cpu, err)
        if problem is not None
        else size_overrides(size),
        as_json=as_json,
        out=out,
        err=err,
        queue=queue,
    )
    raise typer.Exit(code)


@app.command()
def devices(
    measure: Annotated[
        bool, typer.Option("--measure/--no-measure", help="Measure each device's copy bandwidth (seconds).")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Show this machine's devices as measured, the sandbox candidates get here, and the profilers."""
    from evaluator.hardware.devices import discover_devices
    from evaluator.profiling.ncu import find_ncu
    from evaluator.sandbox.isolation import NO_ISOLATION, detect_isolation
    from service import machine_report, render
    from service.schemas import MachineOut

    settings = _settings()
    with err.status("discovering devices..."):
        specs = discover_devices(measure_bandwidth=measure)
        isolation = detect_isolation() if settings.sandbox else NO_ISOLATION
    ncu = find_ncu()
    if as_json:
        machine = MachineOut.from_machine(
            specs, isolation, sandbox_on=settings.sandbox, ncu=ncu, ncu_on=settings.ncu
        )
        return render.emit_json(machine)
    out.print(machine_report.devices_table(specs))
    out.print(machine_report.sandbox_table(isolation, settings.sandbox))
    for warning in isolation.warnings:
        out.print(f"[yellow]warning:[/] {escape(warning)}")
    if ncu is None:
        out.print("profilers: torch profiler; Nsight Compute (ncu) not installed")
    else:
        state = "on" if settings.ncu else "off (CRUCIBLE_NCU=false)"
        out.print(f"profilers: torch profiler; Nsight Compute at {ncu}, {state} for CUDA candidates")
    return None


@app.command()
def runs(
    limit: Annotated[int, typer.Option(help="How many of the newest runs to list.", min=1)] = 20,
    watch: Annotated[
        bool, typer.Option("--watch", help="Refresh the table until every run listed has finished.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List the runs in the store, newest first."""
    from service import render
    from service.schemas import RunListOut
    from store.repository import Store

    if watch and as_json:
        raise CrucibleError("--watch redraws a table; leave out --json (or poll `crucible runs --json`)")
    with Store(_settings().database_url) as store:
        if watch:
            from service.watch import watch_runs

            return watch_runs(store, limit, out)
        summaries = store.list_runs(limit)
    if as_json:
        return render.emit_json(RunListOut.from_records(summaries))
    out.print(
        render.runs_table(summaries) if summaries else "no runs yet; start one with `crucible optimize`"
    )
    return None


@app.command()
def show(
    target: Annotated[str, typer.Argument(help="A run id, or a candidate id like c17.")],
    prompt: Annotated[
        bool, typer.Option("--prompt", help="For a candidate: the prompt and response that wrote it.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show one run (status, candidates, LLM calls, Pareto front) or one candidate (source, verdict)."""
    from service.show_command import show_candidate, show_run

    if target.lower().startswith("c"):
        return show_candidate(_settings(), target, prompt, as_json, out)
    if not target.isdigit():
        raise CrucibleError(f"{target!r} is neither a run id (17) nor a candidate id (c17)")
    return show_run(_settings(), int(target), as_json, out)


@app.command("export")
def export_command(
    target: Annotated[str, typer.Argument(help="A run id (exports its best) or a candidate id like c17.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the module and its test into.")],
    front: Annotated[
        bool, typer.Option("--front", help="Export every kernel on the run's Pareto front, one folder each.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Export a kernel as a standalone module with a provenance header, its own pytest file and a
    manifest; the same candidate always exports the same bytes."""
    from service.export_command import run_export

    run_export(_settings(), target, out_dir, front=front, as_json=as_json, out=out)


# The long-running commands (a worker, the API, the MCP server, the dashboard): service/cli_servers.py.
for _command in (cli_servers.worker, cli_servers.serve, cli_servers.mcp, cli_servers.dashboard):
    app.command()(_command)


def main() -> None:
    """Entry point: turn Crucible's errors into one message and exit status 2."""
    from pydantic import ValidationError

    from service.shadowing import installed_top_levels, shadowing, shadowing_message

    clash = shadowing_message(shadowing(installed_top_levels()))
    if clash:
        err.print(f"[yellow]warning:[/] {escape(clash)}")
    try:
        app()
    except (CrucibleError, ValidationError) as exc:
        message = str(exc)
        if isinstance(exc, ValidationError):
            if exc.title != "Settings":
                raise  # a document that does not fit its schema is a bug, not bad input
            fields = ", ".join(
                f"CRUCIBLE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
            message = f"invalid setting: {fields}"
        if "--json" in sys.argv:
            from service.render import emit_json
            from service.schemas import ErrorOut

            emit_json(ErrorOut(error=message))
        err.print(f"[red]error:[/] {escape(message)}")
        sys.exit(2)


if __name__ == "__main__":
    main()
