"""``crucible show``: one run, or one candidate with the call that wrote it."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape

from kernels.errors import CrucibleError
from service import render
from service.schemas import CandidateDetailOut, RunDetailOut
from service.settings import Settings
from store.repository import Store


def show_run(settings: Settings, run_id: int, as_json: bool, out: Console) -> None:
    """One run: status, limits, every candidate, the LLM calls, the Pareto front and the best."""
    with Store(settings.database_url) as store:
        run = store.get_run(run_id)
        candidates = store.candidates(run_id)
        pareto = store.pareto(run_id)
        best = store.best_candidate(run_id)
        calls = store.llm_calls(run_id)
    if as_json:
        return render.emit_json(RunDetailOut.from_records(run, candidates, pareto, best))
    out.print(
        f"run [bold]{run.id}[/]: {run.problem_name} on {run.device}, {run.status.value}"
        f"{' (' + escape(run.error) + ')' if run.error else ''}"
    )
    out.print(f"judged by: {escape(render.limits_text(run.limits))}", soft_wrap=False)
    out.print(render.candidates_table(candidates, f"Candidates ({len(candidates)} of budget {run.budget})"))
    if calls:
        out.print(render.calls_table(calls, {c.hash: c.id for c in candidates}))
    out.print(render.candidates_table(pareto, "Pareto front (latency, error, memory)"))
    if best:
        out.print(
            f"best: c{best.id} {best.family} ({best.config}) speedup {render.speedup_text(best.result)}"
        )
    return None


def show_candidate(settings: Settings, target: str, prompt: bool, as_json: bool, out: Console) -> None:
    """One candidate: its verdict and source, or the prompt and response of the call that wrote it."""
    number = target[1:]
    if not number.isdigit():
        raise CrucibleError(f"{target!r} is not a candidate id like c17")
    with Store(settings.database_url) as store:
        record = store.get_candidate(int(number))
        writer = next(
            (
                c
                for c in store.llm_calls(record.run_id)
                if c.candidate_hash == record.hash and c.role == "writer"
            ),
            None,
        )
    if as_json:
        return render.emit_json(CandidateDetailOut.from_record(record))
    out.print(
        f"candidate [bold]c{record.id}[/] of run {record.run_id}: {escape(record.family)} "
        f"({record.origin.value}) {escape(f'[{record.config}]')} {render.status_text(record.result)} "
        f"speedup {render.speedup_text(record.result)}"
    )
    if record.result is not None and record.result.reason:
        out.print(f"reason: {escape(record.result.reason)}")
    if not prompt:
        out.print(escape(record.source), soft_wrap=True)
        return None
    if writer is None:
        raise CrucibleError(f"c{record.id} was not written by an LLM call ({record.origin.value})")
    for message in json.loads(writer.prompt):
        out.rule(f"{message['role']} prompt")
        out.print(escape(message["content"]), soft_wrap=True)
    out.rule(f"response of {escape(writer.model)} ({writer.completion_tokens} tokens)")
    out.print(escape(writer.response), soft_wrap=True)
    return None
