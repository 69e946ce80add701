"""The MCP server: Crucible's tools for coding agents, on the SDK's high-level ``MCPServer``.

Each tool module registers its tools over one shared ``McpState``. The instructions below are
sent to the client when it connects; agents read them, with each tool's docstring, to decide
what to call when.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from service.exporting import crucible_version
from service.mcp import tools_kernels, tools_problems, tools_runs
from service.mcp.state import McpState

INSTRUCTIONS = """\
Crucible makes GPU kernels faster and proves every speedup: it runs candidate kernels in a
sandbox, checks them against the PyTorch reference on inputs they cannot predict, and times
them carefully. Use it as the evaluator and optimizer for a slow operation in the user's code:

1. create_problem: register the operation as a KernelBench-format problem (class Model,
   get_inputs, get_init_inputs), unless it is a built-in (softmax, layernorm, matmul, ...).
2. evaluate_candidate: after each edit of a candidate (class ModelNew, same signature), get the
   verdict and per-shape speedup. Trust its status and reason over your own test runs.
3. start_run: queue a search over many candidates and configs; a Crucible worker (by default
   one runs beside this server) takes it.
   Poll run_status until it completes.
4. pareto / search_kernels / get_kernel: choose a kernel by speedup, error and memory, on the
   device it will run on (results never carry over between devices).
5. apply_kernel: write the chosen kernel beside the user's file, then run its test_command.
"""


def build_server(state: McpState) -> MCPServer:
    """The server with every tool registered over ``state``."""
    server: MCPServer = MCPServer(
        "crucible",
        title="Crucible",
        description="Sandboxed evaluation and evolutionary search of GPU kernels",
        instructions=INSTRUCTIONS,
        version=crucible_version(),
    )
    for module in (tools_problems, tools_runs, tools_kernels):
        module.register(server, state)
    return server
