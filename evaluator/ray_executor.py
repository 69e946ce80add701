"""The Ray executor: candidate evaluations on a Ray cluster, one actor per slot.

Each slot is a Ray actor holding one ``Evaluator``, so a slot prepares the reference once and
then judges candidate after candidate, each still in its own sandboxed process on the actor's
node. An actor asks for one GPU when the run's device is CUDA (Ray picks the GPU and the node;
the actor pins its children to it) and one CPU otherwise.

A lost node or a killed actor process is survived: Ray restarts the actor (``max_restarts``),
elsewhere if it has to, and runs the evaluation that was in flight again (``max_task_retries``).
When that is not possible the evaluation's future raises ``EvaluationLost``, which the search
loop records as ``crashed``, and a fresh actor takes the slot, so no evaluation is silently lost
and the run keeps its slots. An exception the evaluator itself raised (a reference that failed)
reaches the caller as it would from ``LocalExecutor``.

Ray is imported only when a ``RayExecutor`` is built, so this module imports without it.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult
from kernels.candidate import Candidate
from kernels.errors import CrucibleError
from kernels.problem import Problem

CLOSE_TIMEOUT_S = 30.0  # how long close() lets each actor clean its work directories up


class EvaluationLost(RuntimeError):
    """Ray could not bring an evaluation to a verdict: its actor or node died, retries included."""


def local_problem(problem: Problem) -> Problem:
    """The problem with a file of its own source on this machine.

    The reference runs from the problem's file, and a Ray node may not have it, or may have a
    different one at that path. The source travels with the problem, so where the file is missing
    or differs it is written to a fresh folder under the same name (the candidate's import checks
    use the file's stem)."""
    try:
        if problem.path.read_text(encoding="utf-8") == problem.source:
            return problem
    except (OSError, UnicodeDecodeError):
        pass
    path = Path(tempfile.mkdtemp(prefix="crucible-problem-")) / problem.path.name
    path.write_text(problem.source, encoding="utf-8")
    return replace(problem, path=path)


class EvaluatorActor:
    """What one Ray actor holds: an evaluator for one problem on the GPU (or CPU) Ray gave it.

    A plain class here; ``RayExecutor`` makes it a Ray actor. A restart reruns this constructor,
    so a restarted actor prepares its reference again before its next verdict."""

    def __init__(
        self,
        problem: Problem,
        device: str,
        limits: EvalLimits,
        secret_seed: int,
        workroot: str | None,
        keep_workdirs: bool,
    ) -> None:
        self.device = _assigned_device(device)
        local = local_problem(problem)
        self._problem_dir = local.path.parent if local.path != problem.path else None
        self.evaluator = Evaluator(
            local,
            self.device,
            limits,
            secret_seed,
            workroot=Path(workroot) if workroot is not None else None,
            keep_workdirs=keep_workdirs,
        )

    def evaluate(self, candidate: Candidate) -> EvalResult:
        return self.evaluator.evaluate(candidate)

    def where(self) -> dict[str, Any]:
        """The actor's process, node and device: for logs, and for the tests that kill it."""
        import ray

        return {
            "pid": os.getpid(),
            "node_id": ray.get_runtime_context().get_node_id(),
            "device": self.device,
        }

    def close(self) -> None:
        self.evaluator.close()
        if self._problem_dir is not None:
            shutil.rmtree(self._problem_dir, ignore_errors=True)


def _assigned_device(device: str) -> str:
    """``cuda:N`` for the physical GPU Ray assigned this actor (``cpu`` stays ``cpu``).

    Ray sets the actor's own ``CUDA_VISIBLE_DEVICES`` to its GPU; the evaluator pins each child
    the same way, so the child must be given that GPU's id, not the index the run named."""
    if not device.startswith("cuda"):
        return device
    import ray

    ids = [str(i) for i in ray.get_gpu_ids()]
    if not ids:
        raise CrucibleError("the Ray actor for a CUDA run was given no GPU; is num_gpus set?")
    if not ids[0].isdigit():
        raise CrucibleError(
            f"Ray assigned GPU {ids[0]!r}; Crucible pins children by index, so list GPUs by index "
            "in the node's CUDA_VISIBLE_DEVICES"
        )
    return f"cuda:{ids[0]}"


def _gist(exc: BaseException) -> str:
    """A Ray error's first line, and its last where there are more (an actor whose constructor
    failed ends with that error), without the terminal colors Ray adds."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).splitlines() if line.strip()]
    if not lines:
        return ""
    gist = lines[0][:200] + (f" ... {lines[-1][:200]}" if len(lines) > 1 else "")
    return f": {gist}"


def actor_resources(device: str) -> dict[str, Any]:
    """What one slot's actor asks Ray for: a GPU on a CUDA run, a CPU otherwise."""
    return {"num_gpus": 1} if device.startswith("cuda") else {"num_cpus": 1}


def check_cluster_fits(cluster: dict[str, float], resources: dict[str, Any], address: str | None) -> None:
    """Refuse a run whose slots the cluster could never place, rather than wait for them forever:
    a CUDA run on a cluster without a GPU, above all when the driver has none either."""
    where = f"the Ray cluster at {address}" if address else "the local Ray instance"
    for key, resource in (("num_gpus", "GPU"), ("num_cpus", "CPU")):
        wanted = float(resources.get(key) or 0)
        if wanted and cluster.get(resource, 0.0) < wanted:
            raise CrucibleError(
                f"{where} has {cluster.get(resource, 0.0):g} {resource}(s); an evaluation slot asks for "
                f"{wanted:g}. Add {resource} nodes, or run on another device"
            )


class RayExecutor:
    """Runs each candidate on a Ray actor: ``slots`` actors, one evaluation each at a time.

    ``address`` (the settings' ``RAY_ADDRESS``) joins a running cluster; without one, and with no
    Ray already initialized in this process, a local instance is started with ``slots + 1`` CPUs, and
    stopped again by ``close``. ``actor_options`` replaces the resources an actor asks for
    (``{"num_gpus": 1}`` for CUDA, ``{"num_cpus": 1}`` otherwise).
    """

    def __init__(
        self,
        problem: Problem,
        device: str,
        limits: EvalLimits,
        secret_seed: int,
        *,
        slots: int,
        address: str | None = None,
        workroot: Path | None = None,
        keep_workdirs: bool = False,
        max_restarts: int = 3,
        max_task_retries: int = 2,
        actor_options: dict[str, Any] | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError(f"a RayExecutor needs at least one slot, got {slots}")
        try:
            import ray
        except ImportError as exc:  # a setup fault of this machine, not of the run
            raise CrucibleError("CRUCIBLE_EXECUTOR=ray needs Ray installed: pip install -e '.[ray]'") from exc
        self.slots = slots
        self.device = device
        self._ray = ray
        self._owns_ray = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=slots + 1, include_dashboard=False, log_to_driver=False)
            self._owns_ray = True
        resources = actor_options or actor_resources(device)
        try:
            check_cluster_fits(ray.cluster_resources(), resources, address)
        except CrucibleError:
            if self._owns_ray:
                ray.shutdown()
            raise
        self._args = (problem, device, limits, secret_seed)
        self._workroot = workroot
        self._keep_workdirs = keep_workdirs
        self._ready: set[int] = set()  # slots whose actor has answered since it was (re)made
        self._idle: queue.Queue[int] = queue.Queue()
        self._pings: dict[int, Any] = {}
        self.actors: list[Any] = []
        try:
            self._actor_class = ray.remote(EvaluatorActor).options(
                max_restarts=max_restarts, max_task_retries=max_task_retries, **resources
            )
            self.actors.extend(self._new_actor(i) for i in range(slots))
        except BaseException:  # bad options, arguments that do not pickle: leave nothing behind
            for actor in self.actors:
                ray.kill(actor, no_restart=True)
            if self._owns_ray:
                ray.shutdown()
            raise
        # Threads only wait on Ray, as LocalExecutor's wait on children: one per slot.
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="crucible-ray")
        self._closed = False

    def _new_actor(self, index: int) -> Any:
        """Make a slot's actor; the slot takes work once the actor answers, so an actor that Ray
        cannot place yet (no free GPU) holds no candidate while the other slots go on."""
        workroot = None if self._workroot is None else str(self._workroot / f"slot-{index}")
        actor: Any = self._actor_class.remote(*self._args, workroot, self._keep_workdirs)
        # Settled either way: an actor that failed to start reports why at its first evaluation.
        ping = actor.where.remote()
        self._pings[index] = ping  # held, so its reply stays alive until the callback has run
        ping.future().add_done_callback(lambda _: self._now_ready(index))
        return actor

    def _now_ready(self, index: int) -> None:
        self._ready.add(index)
        self._idle.put(index)

    def submit(self, candidate: Candidate) -> Future[EvalResult]:
        if self._closed:
            raise RuntimeError("this RayExecutor is closed")
        return self._pool.submit(self._on_free_actor, candidate)

    def _on_free_actor(self, candidate: Candidate) -> EvalResult:
        index = self._idle.get()
        if index < 0:
            raise EvaluationLost("the Ray executor closed before a slot was free for this candidate")
        exceptions = self._ray.exceptions
        actor = self.actors[index]
        back_to_idle = True
        try:
            result: EvalResult = self._ray.get(actor.evaluate.remote(candidate))
            return result
        except exceptions.RayTaskError as exc:  # the evaluator raised: as it would locally
            cause = getattr(exc, "cause", None)
            if isinstance(cause, BaseException):
                raise cause from None
            raise
        except exceptions.RayError as exc:
            if isinstance(exc, exceptions.ActorDiedError):  # gone for good: its restarts are used up
                back_to_idle = False  # the slot comes back when its new actor answers
                self._replace(index, actor)
            what = f"{type(exc).__name__}{_gist(exc)}"
            raise EvaluationLost(
                f"Ray lost the evaluation on slot {index} after its retries ({what})"
            ) from exc
        finally:
            if back_to_idle:
                self._idle.put(index)

    def _replace(self, index: int, dead: Any) -> None:
        """A fresh actor for a slot whose actor is gone for good."""
        self._ready.discard(index)
        try:
            self._ray.kill(dead, no_restart=True)
        except Exception:  # already gone: nothing to free
            pass
        if not self._closed:
            self.actors[index] = self._new_actor(index)

    def where(self) -> list[dict[str, Any]]:
        """Each slot's actor: pid, node and device (waits for actors that are busy or not placed)."""
        return list(self._ray.get([a.where.remote() for a in self.actors]))

    def close(self) -> None:
        """Wait for the evaluations under way, give up those still waiting for a slot (their futures
        raise), let each started actor clean its work directories up, and end the actors."""
        if self._closed:
            return
        self._closed = True
        for _ in range(self.slots):  # wakes a thread waiting for a slot that may never come
            self._idle.put(-1)
        self._pool.shutdown(wait=True, cancel_futures=True)
        ray = self._ray
        started = [a for i, a in enumerate(self.actors) if i in self._ready]
        try:
            ray.get([a.close.remote() for a in started], timeout=CLOSE_TIMEOUT_S)
        except Exception:  # a dead or stuck actor: killing it is all that is left
            pass
        for actor in self.actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:
                pass
        if self._owns_ray:
            ray.shutdown()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
