"""``crucible mcp``: serve Crucible's MCP tools to a coding agent, over stdio or streamable HTTP.

Stdio is what agents launch (``crucible mcp`` as the server's command): the protocol owns
stdout, so everything else goes to stderr. ``--http`` serves streamable HTTP at
``http://HOST:PORT/mcp`` instead, for clients that connect to a running server
(``service.mcp.http``). The tools evaluate code and write files on this machine, so HTTP binds
to loopback only unless ``CRUCIBLE_API_TOKEN`` is set, and then every request needs it. The
store is opened (and migrated) once, before serving.
"""

from __future__ import annotations

import sys

from kernels.errors import CrucibleError
from service.settings import Settings
from store.repository import Store


def check_http_bind(settings: Settings, host: str) -> None:
    """Refuse a bind beyond loopback without a token: the tools run code and write files here."""
    from service.serve_command import is_loopback_host  # the rule ``serve`` applies too

    if settings.api_token is None and not is_loopback_host(host):
        raise CrucibleError(
            f"refusing to serve MCP on {host} without a token: its tools run code and write files"
            " here; set CRUCIBLE_API_TOKEN (every request must then send it), or bind to 127.0.0.1"
        )


def run_mcp(settings: Settings, *, http: bool, host: str, port: int, workers: int = 0) -> int:
    """Serve until the client disconnects (stdio) or the server is stopped (HTTP); exit status 0.

    ``workers`` queue workers run in threads beside the tools, so a run that ``start_run`` queues
    is taken up without a ``crucible worker`` elsewhere; they write nothing on stdout, which the
    protocol owns (candidates' output goes to files in their work directories)."""
    if http:
        check_http_bind(settings, host)
    from service.mcp.http import MCP_PATH, serve_http  # the SDK and the tools: after the cheap checks
    from service.mcp.server import build_server
    from service.mcp.state import McpState
    from service.worker_threads import queue_workers

    with Store(settings.database_url) as store, queue_workers(settings, workers):
        state = McpState.open(settings, store)
        server = build_server(state)
        print(f"{workers} queue worker(s) beside the MCP tools, {store!r}", file=sys.stderr)
        try:
            if http:
                token = settings.api_token.get_secret_value() if settings.api_token else None
                guarded = "every request needs CRUCIBLE_API_TOKEN" if token else "loopback only, no token"
                print(f"Crucible MCP server on http://{host}:{port}{MCP_PATH} ({guarded})", file=sys.stderr)
                serve_http(server, host=host, port=port, token=token)
            else:
                server.run("stdio")
        finally:
            state.evaluations.close()
    return 0
