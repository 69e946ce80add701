"""The tools an agent uses while it edits a kernel: ``create_problem`` and ``evaluate_candidate``."""

from __future__ import annotations

import contextlib
import time

import anyio
from mcp.server.mcpserver import Context, MCPServer

from service.mcp.arguments import (
    CandidateSource,
    ConfigArg,
    DeviceArg,
    ProblemNameArg,
    ProblemRef,
    ProblemSource,
)
from service.mcp.documents import ProblemCreatedOut
from service.mcp.errors import reported
from service.mcp.evaluation import time_bound_s
from service.mcp.state import McpState
from service.schemas import EvaluateOut

HEARTBEAT_S = 2.0  # how often a running evaluation reports progress


def register(server: MCPServer, state: McpState) -> None:
    @server.tool()
    def create_problem(path_or_source: ProblemSource, name: ProblemNameArg = None) -> ProblemCreatedOut:
        """Register the user's slow operation as a Crucible problem. Use it first, when the code to
        speed up is not a built-in problem.

        Give a KernelBench-format file (class Model(torch.nn.Module), get_inputs(),
        get_init_inputs(), optionally SHAPES and TOLERANCES) as a path or as its source text. It
        is loaded in a fresh, confined process with a time limit, never in this server; a file
        that fails to load gets an error naming the fault. The problem is kept under `name`
        beside the store, as the HTTP API keeps uploads: the same source again is a no-op,
        another source under a taken name is refused. Pass the returned `name` as `problem` to
        evaluate_candidate, and `run_with` to start_run."""
        with reported("create_problem"):
            return state.problems.create(path_or_source, name)

    @server.tool()
    async def evaluate_candidate(
        problem: ProblemRef,
        source: CandidateSource,
        ctx: Context,
        device: DeviceArg = "cpu",
        config: ConfigArg = None,
    ) -> EvaluateOut:
        """Judge one candidate kernel against the problem's reference: the trustworthy check to run
        after every edit, instead of running the code yourself.

        The candidate runs in Crucible's sandboxed child processes (never in this server or in
        your process), is checked against the reference on secret seeds, several shapes and
        heavy-tailed inputs, then timed. Returns the verdict (status ok, compile_error,
        runtime_error, wrong_output, rejected, timeout, out_of_memory or crashed), the stage
        reached, a one-line reason to act on, and per-shape latency, speedup and error. On the
        cpu, Triton candidates run under the interpreter: checked for correctness, never
        ranked. This call blocks until the verdict, bounded by the evaluator's per-stage time
        limits (seconds to a few minutes); evaluations run one at a time per server. For a
        search over many candidates use start_run instead."""
        with reported("evaluate_candidate"):
            bound = time_bound_s(state.settings.eval_limits())
            if state.evaluations.busy:
                await ctx.info("another evaluation is running; this one waits for it")
            await ctx.info(f"evaluating a candidate for {problem} on {device}")
            started = time.monotonic()

            async def heartbeat() -> None:
                while True:
                    await anyio.sleep(HEARTBEAT_S)
                    elapsed = time.monotonic() - started
                    message = f"evaluating: {elapsed:.0f} s (stage limits total {bound:.0f} s)"
                    with contextlib.suppress(Exception):  # progress is best effort
                        await ctx.report_progress(min(elapsed, bound), bound, message)

            failure: Exception | None = None
            async with anyio.create_task_group() as tg:
                tg.start_soon(heartbeat)
                try:
                    result = await anyio.to_thread.run_sync(
                        state.evaluations.evaluate, problem, source, device, config
                    )
                except Exception as exc:  # raised below, outside the task group, as it is
                    failure = exc
                tg.cancel_scope.cancel()
            if failure is not None:
                raise failure
            await ctx.info(f"verdict: {result.status.value} at stage {result.stage.value}: {result.reason}")
            return result
