"""Running one optimization: the problem, evaluator, executor, proposer and store wired together.

The CLI calls this in the foreground; a worker (``service.worker``) calls it for queued runs. A run's
problem, device, budget and secret seed live in the store, so ``execute_run`` works the same
for a fresh run and for one resumed after a crash.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

from agent.llm_proposer import LLMProposer
from agent.loop import SearchEvent, SearchOutcome, run_search
from agent.offline import OfflineProposer
from evaluator.errors import EvaluatorError
from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor, MultiDeviceExecutor
from evaluator.hardware.devices import check_device_available, normalize_device, slot_devices
from evaluator.limits import EvalLimits
from evaluator.ray_executor import RayExecutor
from kernels.errors import CrucibleError
from kernels.families import load_families
from kernels.problem import Problem, builtin_names, load_problem
from service.llm_wiring import check_llm_settings, llm_proposer
from service.recorder import StoreRecorder
from service.settings import Settings
from store.records import RunRecord
from store.repository import Store
from store.status import RunStatus

PROPOSERS = ("auto", "offline", "llm")


def device_for(device: str, settings: Settings) -> str:
    """The normalized device, checked on this machine unless Ray evaluates: then the GPUs are the
    cluster's, and a driver without one may still queue and drive a CUDA run."""
    if settings.executor == "ray":
        return normalize_device(device)
    return check_device_available(device)


def create_run(
    store: Store,
    problem: Problem,
    *,
    device: str,
    budget: int,
    proposer: str,
    limits: EvalLimits,
    slots: int = 1,
    settings: Settings | None = None,
) -> int:
    """Validate the request and queue a run with a fresh secret seed and the evaluator limits its
    candidates will be judged by, wherever and whenever it runs. ``auto`` becomes ``llm`` when an
    endpoint and models are configured, ``offline`` otherwise."""
    if budget < 1:
        raise CrucibleError(f"--budget must be at least 1, got {budget}")
    if proposer not in PROPOSERS:
        raise CrucibleError(f"unknown proposer {proposer!r}; choose one of {', '.join(PROPOSERS)}")
    settings = settings or Settings()
    if proposer == "auto":
        proposer = "llm" if settings.llm_configured else "offline"
    if proposer == "llm":
        check_llm_settings(settings)
    device = device_for(device, settings)
    problem.shapes_for(device)  # fails early when the problem has no shape for this device
    if proposer == "offline" and not load_families(problem):
        raise CrucibleError(
            f"problem {problem.name!r} has no variant families for the offline proposer "
            f"(expected .py files in {problem.variants_dir})"
        )
    return store.create_run(
        problem,
        device=device,
        proposer=proposer,
        budget=budget,
        seed=secrets.randbits(31),
        options={"slots": slots},
        limits=limits.model_dump(),
    )


def run_limits(run: RunRecord, settings: Settings) -> EvalLimits:
    """The limits the run was started with. A run stored before runs kept them is judged by the
    current settings; a limit the run names that this version no longer has is dropped."""
    if run.limits is None:
        return settings.eval_limits()
    known = EvalLimits.field_names()
    return EvalLimits.model_validate({k: v for k, v in run.limits.items() if k in known})


def problem_for_run(run: RunRecord) -> Problem:
    """Reload the run's problem and make sure it is the same source the run started with."""
    ref: str | Path = run.problem_path
    if not Path(run.problem_path).exists() and run.problem_name in builtin_names():
        ref = run.problem_name
    problem = load_problem(ref, run.overrides)
    if problem.source != run.problem_source:
        raise CrucibleError(
            f"the problem file {problem.path} changed since run {run.id} started;"
            " start a new run instead of resuming"
        )
    return problem


def execute_run(
    store: Store,
    settings: Settings,
    run_id: int,
    *,
    on_event: Callable[[SearchEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    stopped_as: Callable[[], RunStatus | None] | None = None,
) -> SearchOutcome:
    """Run (or resume) a stored run to its budget, keeping the run's status true at every exit.

    ``stopped_as`` says what a run that ``should_stop`` ended becomes: ``cancelled`` unless told
    otherwise; a worker that drains says ``queued``, one that lost its lease None (the run's
    status is no longer its to set)."""
    run = store.get_run(run_id)
    if run.status is RunStatus.COMPLETED:
        raise CrucibleError(f"run {run_id} is already completed; start a new run or raise its budget")
    problem = problem_for_run(run)
    families = load_families(problem)
    device_for(run.device, settings)  # a resumed run may land on a machine without its GPU
    proposer: OfflineProposer | LLMProposer
    if run.proposer == "llm":
        proposer = llm_proposer(settings, store, run_id, problem, run.device, families, run.seed)
    elif families:
        proposer = OfflineProposer(families, seed=run.seed)
    else:
        raise CrucibleError(f"problem {problem.name!r} has no variant families in {problem.variants_dir}")
    limits = run_limits(run, settings)
    on_ray = settings.executor == "ray"  # Ray's actors build their own evaluators, where they run
    evaluators = [
        Evaluator(
            problem,
            device,
            limits,
            run.seed,
            workroot=settings.workdir,
            keep_workdirs=settings.keep_workdirs,
        )
        for device in ([] if on_ray else slot_devices(run.device))
    ]
    slots = int(run.options.get("slots", 1))
    store.set_run_status(run_id, RunStatus.RUNNING)
    try:
        executor: LocalExecutor | MultiDeviceExecutor | RayExecutor
        if on_ray:  # one actor per slot, each asking Ray for a GPU (a CPU for a cpu run)
            executor = RayExecutor(
                problem,
                run.device,
                limits,
                run.seed,
                slots=slots,
                address=settings.ray_address,
                workroot=settings.workdir,
                keep_workdirs=settings.keep_workdirs,
            )
        elif run.device.startswith("cuda"):
            executor = MultiDeviceExecutor(evaluators)  # CPU-side checks run ahead of the device slots
        else:
            executor = LocalExecutor(evaluators[0], slots=slots)
        with executor:
            outcome = run_search(
                proposer,
                executor,
                StoreRecorder(store, run_id),
                run.budget,
                on_event=on_event,
                should_stop=should_stop,
            )
    except KeyboardInterrupt:
        store.set_run_status(run_id, RunStatus.INTERRUPTED, "interrupted by the user; resume with --resume")
        raise
    except EvaluatorError as exc:
        store.set_run_status(run_id, RunStatus.FAILED, str(exc))
        raise
    except Exception as exc:
        store.set_run_status(run_id, RunStatus.INTERRUPTED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if isinstance(proposer, LLMProposer):
            proposer.close()
    final: RunStatus | None = RunStatus.COMPLETED
    if outcome.stopped_reason == "stopped":
        final = stopped_as() if stopped_as is not None else RunStatus.CANCELLED
    if final is not None:
        store.set_run_status(run_id, final, outcome.detail)  # a cap says which one stopped the run
    return outcome
