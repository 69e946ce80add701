"""The tools that read kernels from the store and write one into the user's project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from evaluator.hardware.devices import normalize_device
from service.mcp.apply import apply_kernel as write_kernel
from service.mcp.arguments import CandidateId, DeviceArg, TargetFile
from service.mcp.documents import AppliedOut, KernelSearchOut, KernelSummaryOut
from service.mcp.errors import reported
from service.mcp.state import McpState
from service.schemas import CandidateDetailOut
from store.kernel_search import MAX_LIMIT, KernelQuery, find_kernels

ProblemFilter = Annotated[str | None, Field(max_length=200, description="only kernels for this problem name")]
DeviceFilter = Annotated[
    DeviceArg | None,
    Field(description="only kernels measured on this device (cpu, cuda:N; cuda:all: any GPU)"),
]
MinSpeedup = Annotated[
    float | None, Field(gt=0, description="only ranked kernels at least this much faster than the reference")
]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="how many kernels to list at most")]


def register(server: MCPServer, state: McpState) -> None:
    @server.tool()
    def search_kernels(
        problem: ProblemFilter = None,
        device: DeviceFilter = None,
        min_speedup: MinSpeedup = None,
        limit: Limit = 20,
    ) -> KernelSearchOut:
        """List passing kernels across every run in the store, best first: ranked ones by speedup,
        then unranked ones (Triton interpreted on the cpu). Use it to find what Crucible already
        knows for a problem on a device before starting a new run, or to compare runs. Speedups
        hold only for the device they were measured on. get_kernel shows one in full."""
        with reported("search_kernels"):
            query = KernelQuery(
                problem=problem,
                device=normalize_device(device) if device else None,
                min_speedup=min_speedup,
                limit=limit,
            )
            hits = find_kernels(state.store, query)
            return KernelSearchOut(items=tuple(KernelSummaryOut.from_hit(h) for h in hits))

    @server.tool()
    def get_kernel(candidate_id: CandidateId) -> CandidateDetailOut:
        """One candidate in full: its source, its CONFIG, its verdict (status, stage, reason) and
        its per-shape metrics (latency, speedup, error, memory). Read it to learn from a kernel
        or to decide which one to apply."""
        with reported("get_kernel"):
            return CandidateDetailOut.from_record(state.store.get_candidate(candidate_id))

    @server.tool()
    def apply_kernel(candidate_id: CandidateId, target_file: TargetFile) -> AppliedOut:
        """Write a passing kernel into the user's project, beside the file it is for: into
        crucible_kernels/<problem>/ next to `target_file`, as a standalone module (with a
        provenance header; `Kernel` is a drop-in for the reference `Model`, `run` a plain
        function), a copy of the reference, a pytest file and manifest.json.

        It never overwrites a file it did not write: existing files are replaced only when the
        folder's manifest.json shows Crucible wrote them and they are unedited; otherwise the
        call fails naming each such file and changes nothing. Reports every path as created,
        replaced or unchanged. Afterwards run the returned test_command to check the kernel in
        the user's environment, then use import_line in their code."""
        with reported("apply_kernel"):
            return write_kernel(state.store, candidate_id, Path(target_file))
