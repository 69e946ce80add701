"""One real MCP server per test module: ``python -m service.mcp`` over stdio, driven by the SDK's
own client, on a fresh SQLite store with the fast evaluator limits of the CLI tests.

The server runs one queue worker beside its tools, as ``crucible mcp`` does by default: a run
that start_run queues is run by it, so the read tools have candidates to find. The tests open
the same store here to check what the tools wrote. Async tests and fixtures run on anyio's
pytest plugin (it comes with the SDK), module-scoped so they share one event loop.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from store.repository import Store

REPO = Path(__file__).resolve().parents[3]
FAST_ENV = {
    "CRUCIBLE_WARMUP_MS": "5",
    "CRUCIBLE_TIMING_BUDGET_MS": "30",
    "CRUCIBLE_MIN_SAMPLES": "5",
    "CRUCIBLE_MAX_SAMPLES": "200",
}
RUN_PROBLEM = "bias_gelu"  # cheap on the CPU, with a PyTorch family that is timed for real
RUN_BUDGET = 2  # the PyTorch family (timed) and a Triton one (interpreted): ranked and unranked
CALL_TIMEOUT_S = 300.0


@dataclass
class Mcp:
    """A connected client session, with what the server logged to it."""

    session: ClientSession
    home: Path
    database_url: str
    instructions: str
    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)

    async def call(
        self, tool: str, arguments: dict[str, Any] | None = None, **kw: Any
    ) -> types.CallToolResult:
        return await self.session.call_tool(tool, arguments or {}, read_timeout_seconds=CALL_TIMEOUT_S, **kw)

    async def ok(self, tool: str, arguments: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """The structured result of a call that must succeed."""
        result = await self.call(tool, arguments, **kw)
        text = " ".join(c.text for c in result.content if isinstance(c, types.TextContent))
        assert not result.is_error, text
        assert result.structured_content is not None
        return result.structured_content

    async def error(self, tool: str, arguments: dict[str, Any] | None = None) -> str:
        """The message of a call that must fail as an error result (never a protocol error)."""
        result = await self.call(tool, arguments)
        assert result.is_error, result.structured_content
        return " ".join(c.text for c in result.content if isinstance(c, types.TextContent))


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def mcp_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp")


@pytest.fixture(scope="module")
def server_env(mcp_home: Path) -> dict[str, str]:
    """The server's whole configuration: nothing of the outer environment's Crucible settings."""
    return {
        **FAST_ENV,
        "CRUCIBLE_DATABASE_URL": f"sqlite:///{mcp_home / 'data' / 'crucible.db'}",
        "CRUCIBLE_WORKDIR": str(mcp_home / "work"),
        "PYTHONPATH": str(REPO),
        "HOME": str(mcp_home),
    }


@pytest.fixture(scope="module")
async def mcp(server_env: dict[str, str], mcp_home: Path) -> AsyncIterator[Mcp]:
    (mcp_home / "data").mkdir(exist_ok=True)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "service.mcp", "--workers", "1"],
        env=server_env,
        cwd=str(mcp_home),
    )
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    with (mcp_home / "server.log").open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, logging_callback=on_log) as session,
        ):
            started = await session.initialize()
            yield Mcp(
                session, mcp_home, server_env["CRUCIBLE_DATABASE_URL"], started.instructions or "", logs
            )


@pytest.fixture(scope="module")
def store(mcp: Mcp) -> Iterator[Store]:
    with Store(mcp.database_url) as opened:
        yield opened


async def wait_for_run(mcp: Mcp, run_id: int, statuses: set[str], timeout_s: float = 300.0) -> dict[str, Any]:
    """Poll run_status until the run reaches one of ``statuses``; the last state otherwise."""
    with anyio.move_on_after(timeout_s):
        while True:
            state = await mcp.ok("run_status", {"run_id": run_id})
            if state["status"] in statuses:
                return state
            await anyio.sleep(0.5)
    return state


@pytest.fixture(scope="module")
async def executed_run(mcp: Mcp) -> int:
    """A run queued through start_run and run to its budget by the server's own worker."""
    queued = await mcp.ok("start_run", {"problem": RUN_PROBLEM, "budget": RUN_BUDGET})
    assert queued["status"] in ("queued", "running")
    done = await wait_for_run(mcp, queued["id"], {"completed", "failed", "cancelled", "interrupted"})
    assert done["status"] == "completed", done
    return int(queued["id"])


@pytest.fixture
def clean_env() -> dict[str, str]:
    """The environment for a subprocess that must see none of this machine's Crucible settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("CRUCIBLE_", "OPENAI_", "RAY_"))}
