"""``python -m service.mcp [--http --host H --port N]``: the MCP server without the ``crucible`` CLI."""

from __future__ import annotations

import argparse
import sys

from kernels.errors import CrucibleError
from service.mcp_command import run_mcp
from service.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.mcp", description=__doc__)
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind with --http (loopback only without CRUCIBLE_API_TOKEN)",
    )
    parser.add_argument("--port", type=int, default=8765, help="port to listen on with --http")
    parser.add_argument("--workers", type=int, default=1, help="queue workers beside the tools (0: none)")
    args = parser.parse_args(argv)
    try:
        return run_mcp(Settings(), http=args.http, host=args.host, port=args.port, workers=args.workers)
    except CrucibleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
