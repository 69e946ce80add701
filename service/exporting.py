"""Export from the store: a run's best candidate (or a named one) as a self-testing module."""

from __future__ import annotations

from datetime import timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from kernels.errors import CrucibleError
from kernels.export import ExportedFiles, Provenance, ShapeConfig, export_kernel, shape_sizes
from store.records import CandidateRecord, RunRecord
from store.repository import Store

# Another config takes a shape over only when its median is this much below the exported one's:
# the tuner's timings of one structure differ by noise too, and a switch must pay for itself.
PER_SHAPE_MARGIN = 0.03


def crucible_version() -> str:
    try:
        return version("kernel-crucible")
    except PackageNotFoundError:
        return "unknown"


def resolve_target(store: Store, target: str) -> CandidateRecord:
    """``RUN`` (an id) picks the run's best candidate; ``cID`` picks one candidate."""
    text = target.strip().lower()
    if text.startswith("c") and text[1:].isdigit():
        record = store.get_candidate(int(text[1:]))
    elif text.isdigit():
        store.get_run(int(text))
        best = store.best_candidate(int(text))
        if best is None:
            raise CrucibleError(f"run {text} has no candidate that passed; nothing to export")
        record = best
    else:
        raise CrucibleError(f"cannot export {target!r}: give a run id (e.g. 3) or a candidate id (e.g. c17)")
    if record.result is None or not record.result.ok:
        status = record.result.status.value if record.result else "pending"
        raise CrucibleError(
            f"candidate c{record.id} is {status}; only candidates that passed can be exported"
        )
    return record


def export_from_store(store: Store, target: str, out_dir: Path) -> tuple[CandidateRecord, ExportedFiles]:
    record = resolve_target(store, target)
    run = store.get_run(record.run_id)
    result = record.result
    assert result is not None
    provenance = Provenance(
        problem=run.problem_name,
        candidate_hash=record.hash,
        family=record.family,
        origin=record.origin.value,
        config=record.config,
        device=result.device.to_dict() if result.device else {"key": run.device},
        shapes=[s.to_dict() for s in result.shapes],
        speedup=result.speedup,
        interpreted=result.interpreted,
        # When it was measured, not when it was exported: the same candidate exports the same bytes.
        date=(record.evaluated_at or record.created_at)
        .astimezone(timezone.utc)
        .isoformat(timespec="seconds"),
        crucible_version=crucible_version(),
        run_id=run.id,
        candidate_id=record.id,
        extra={"scaled_down": result.scaled_down, "overrides": run.overrides},
        shape_configs=shape_winners(store, run, record),
    )
    return record, export_kernel(record.source, run.problem_source, provenance, out_dir)


def shape_winners(store: Store, run: RunRecord, record: CandidateRecord) -> tuple[ShapeConfig, ...]:
    """Per shape, the config of the same source measured fastest on it, where that is not the
    exported one's and beats it by ``PER_SHAPE_MARGIN``."""
    result = record.result
    if result is None or result.latency_us is None:
        return ()
    siblings = [c for c in store.config_siblings(record) if c.id != record.id and c.config != record.config]
    winners = []
    for mine in result.shapes:
        sizes = shape_sizes(run.problem_source, mine.shape)
        if mine.median_us is None or sizes is None:
            continue
        timed = [
            (s.median_us, s.speedup, c)
            for c in siblings
            for s in (c.result.shapes if c.result else ())
            if s.shape == mine.shape and s.median_us is not None and s.timing_method == mine.timing_method
        ]
        if not timed:
            continue
        median_us, speedup, best = min(timed, key=lambda t: (t[0], t[2].id))
        if median_us < mine.median_us * (1 - PER_SHAPE_MARGIN):
            winners.append(ShapeConfig(mine.shape, sizes, best.config, median_us, speedup, best.id))
    return tuple(winners)


def export_front(store: Store, run_id: int, out_dir: Path) -> list[tuple[CandidateRecord, ExportedFiles]]:
    """Every candidate on the run's Pareto front, each into ``out_dir/c<ID>/``."""
    front = store.pareto(run_id)
    if not front:
        raise CrucibleError(f"run {run_id} has no timed candidate on a Pareto front; nothing to export")
    return [export_from_store(store, f"c{record.id}", out_dir / f"c{record.id}") for record in front]
