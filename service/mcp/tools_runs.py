"""The search tools: queue a run, follow it, cancel it, read its Pareto front.

A run goes through ``service.runner.create_run``, the checks ``crucible optimize`` and the HTTP
API make, and is left ``queued`` in the store for the workers (the one ``crucible mcp`` runs beside
its tools, ``crucible worker``, ``crucible serve``); no tool runs a search itself. The
documents are the API's own.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from service.mcp.arguments import Budget, DeviceArg, ProblemRef, Proposer, RunId
from service.mcp.errors import reported
from service.mcp.state import McpState
from service.schemas import CandidateOut, ParetoOut, RunStateOut
from store.repository import Store


def run_state(store: Store, run_id: int) -> RunStateOut:
    """The API's run detail (``service.api.runs.run_state``), imported on first use: that module
    brings FastAPI and the runner (torch, the whole search), which the server need not load to
    start answering."""
    from service.api.runs import run_state as api_run_state

    return api_run_state(store, run_id)


def register(server: MCPServer, state: McpState) -> None:
    @server.tool()
    def start_run(
        problem: ProblemRef, budget: Budget, proposer: Proposer = "offline", device: DeviceArg = "cpu"
    ) -> RunStateOut:
        """Queue an optimization run: an evolutionary search that evaluates up to `budget`
        candidates and keeps the Pareto front. Use it once evaluate_candidate shows the problem
        and a first kernel work, to search variants and configs at scale.

        Returns at once with the run `queued` (its `id` is the run id); a Crucible worker (this
        server's own, or `crucible worker` on the same database) takes it from there, so
        nothing runs inside this call. Follow it with run_status; read results with pareto,
        search_kernels and get_kernel. The offline proposer searches the problem's variant
        families (built-in problems have them; for a file of your own, NAME_variants/*.py
        beside it, and pass its path); the llm proposer needs an endpoint configured."""
        with reported("start_run"):
            from service.runner import create_run

            loaded = state.problems.resolve(problem)
            run_id = create_run(
                state.store,
                loaded,
                device=device,
                budget=budget,
                proposer=proposer,
                limits=state.settings.eval_limits(),
                settings=state.settings,
            )
            return run_state(state.store, run_id)

    @server.tool()
    def run_status(run_id: RunId) -> RunStateOut:
        """Where a run stands: status (queued, running, completed, cancelled, failed,
        interrupted), candidates evaluated against its budget, the best candidate so far, the
        worker holding it and any error. Poll it every few seconds after start_run; a run that
        stays queued is waiting for a worker (this server may run with --no-worker)."""
        with reported("run_status"):
            return run_state(state.store, run_id)

    @server.tool()
    def cancel_run(run_id: RunId) -> RunStateOut:
        """Stop a run: a queued one is cancelled at once, a running one stops within its worker's
        next heartbeat (cancel_requested shows it is asked). A finished run keeps its status.
        Returns the run as it stands after the request."""
        with reported("cancel_run"):
            state.store.request_cancel(run_id)
            return run_state(state.store, run_id)

    @server.tool()
    def pareto(run_id: RunId) -> ParetoOut:
        """A run's Pareto front over latency, error and peak memory, fastest first: the kernels
        worth choosing between, each with its verdict and per-shape metrics. Only really-timed
        passing candidates are on it (not Triton interpreted on the cpu)."""
        with reported("pareto"):
            front = state.store.pareto(run_id)
            return ParetoOut(run_id=run_id, front=tuple(CandidateOut.from_record(c) for c in front))
