"""``crucible optimize``: start or resume a run with a live progress bar, then report and export."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agent.loop import SearchEvent
from kernels.problem import load_problem
from service import render
from service.exporting import export_from_store
from service.runner import create_run, execute_run
from service.schemas import LLMUsageOut, OptimizeReportOut, RunOut
from service.settings import Settings
from store.records import CandidateRecord, RunRecord
from store.repository import Store


def run_optimize(
    settings: Settings,
    *,
    problem: str | None,
    budget: int,
    device: str,
    proposer: str,
    slots: int,
    resume: int | None,
    export: Path | None,
    overrides: dict[str, int],
    as_json: bool,
    out: Console,
    err: Console,
    queue: bool = False,
) -> int:
    """Returns the exit status: 0 when a candidate passed (or the run was queued), 1 when none did."""
    with Store(settings.database_url) as store:
        if resume is None:
            assert problem is not None
            run_id = create_run(
                store,
                load_problem(problem, overrides),
                device=device,
                budget=budget,
                proposer=proposer,
                limits=settings.eval_limits(),
                slots=slots,
                settings=settings,
            )
        else:
            run_id = resume
        run = store.get_run(run_id)
        if queue:  # validated exactly as a foreground run, then left for the workers
            return _report_queued(run, as_json, out)
        progress = Progress(
            TextColumn("[bold]run {task.fields[run]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}"),
            TimeElapsedColumn(),
            console=err,
            disable=as_json,
        )
        task = progress.add_task("optimize", total=run.budget, run=run_id, last="preparing the reference...")

        def on_event(event: SearchEvent) -> None:
            last = ""
            if event.result is not None and event.candidate is not None:
                verdict = f"{render.status_text(event.result)} {render.speedup_text(event.result)}"
                last = f"{event.candidate.family} {verdict}"
            progress.update(task, completed=event.evaluated, last=last)

        with progress:
            outcome = execute_run(store, settings, run_id, on_event=on_event)
        best = store.best_candidate(run_id)
        pareto = store.pareto(run_id)
        final = store.get_run(run_id)
        exported = export_from_store(store, str(run_id), export)[1] if export is not None and best else None
        llm = None
        if final.proposer == "llm":  # the same account as the API's run detail
            progress_now = store.run_progress(run_id)
            llm = LLMUsageOut.from_counts(progress_now.llm_calls, progress_now.llm_ok)
    report = OptimizeReportOut.from_run(
        final,
        evaluated=outcome.evaluated,
        stopped=outcome.stopped_reason.value,
        best=best,
        pareto=pareto,
        exported=exported,
        llm=llm,
    )
    if as_json:
        render.emit_json(report)
    else:
        _print_report(out, report, pareto=pareto, best=best)
    return 0 if best is not None else 1


def _report_queued(run: RunRecord, as_json: bool, out: Console) -> int:
    """Say where a queued run stands and how to follow it."""
    if as_json:
        render.emit_json(RunOut.from_record(run))
    else:
        out.print(
            f"run {run.id} queued: {run.problem_name} on {run.device}, budget {run.budget}; "
            "a `crucible worker` (or `crucible serve`) runs it; follow it with `crucible runs --watch`"
        )
    return 0


def _print_report(
    out: Console, report: OptimizeReportOut, pareto: list[CandidateRecord], best: CandidateRecord | None
) -> None:
    out.print(
        f"run {report.run_id} {report.status.value}: {report.evaluated} candidates evaluated"
        f" (stopped: {report.stopped}{': ' + report.stop_detail if report.stop_detail else ''})"
    )
    if report.llm is not None:
        usage = report.llm
        out.print(
            f"LLM: {usage.calls} calls ({usage.failed_calls} gave no candidate), "
            f"{usage.prompt_tokens + usage.completion_tokens:,} tokens, ${usage.cost_usd:.4f}, "
            f"{usage.candidates_ok} written candidates passed"
        )
    if pareto:
        out.print(render.candidates_table(pareto, "Pareto front (latency, error, memory)"))
    if best is None:
        out.print("[red]no candidate passed[/]; see `crucible show` for the reasons")
        return
    device = best.result.device.key if best.result and best.result.device else "-"
    config = escape(f"[{best.config}]")
    out.print(
        f"[bold green]best:[/] c{best.id} {best.family} {config} "
        f"speedup {render.speedup_text(best.result)} on {device}"
    )
    if report.export:
        out.print(f"[bold]exported:[/] {report.export.module}")
