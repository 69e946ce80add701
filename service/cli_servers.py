"""The ``crucible`` commands that run until stopped: a queue worker, the HTTP API, the MCP server
and the dashboard. ``service.cli`` registers them beside the others, in this order."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from service.cli_options import load_settings

err = Console(stderr=True)


def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit once the queue is empty instead of waiting for more.")
    ] = False,
) -> None:
    """Claim queued runs and run them; SIGTERM drains (the run in hand goes back to the queue)."""
    from service.worker_command import run_worker

    run_worker(load_settings(), until_idle=until_idle, out=err)


def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; not loopback only with CRUCIBLE_API_TOKEN set.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Queue workers to run beside the API.", min=0)] = 1,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Serve the API only (same as --workers 0).")
    ] = False,
) -> None:
    """Serve the HTTP API (/api/v1, /healthz, /metrics, /openapi.json) with queue workers beside it."""
    from service.serve_command import run_serve

    run_serve(load_settings(), host=host, port=port, workers=0 if no_worker else workers, out=err)


def mcp(
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.")
    ] = False,
    host: Annotated[
        str, typer.Option(help="Address to bind with --http; loopback only without CRUCIBLE_API_TOKEN.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on with --http.", min=1, max=65535)] = 8765,
    workers: Annotated[
        int, typer.Option(help="Queue workers beside the tools, to run start_run's runs.", min=0)
    ] = 1,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Tools only: queued runs wait for a worker elsewhere.")
    ] = False,
) -> None:
    """Serve Crucible's tools to coding agents over MCP: stdio, or streamable HTTP with --http."""
    from service.mcp_command import run_mcp

    raise typer.Exit(
        run_mcp(load_settings(), http=http, host=host, port=port, workers=0 if no_worker else workers)
    )


def dashboard(
    host: Annotated[
        str, typer.Option(help="Address to bind; not loopback only with CRUCIBLE_API_TOKEN set.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the dashboard.", min=1, max=65535)] = 8501,
    api_url: Annotated[
        str | None,
        typer.Option(help="An API to send start and cancel to; by default one is started beside it."),
    ] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Start the API beside it without a queue worker.")
    ] = False,
) -> None:
    """Open the Streamlit dashboard over CRUCIBLE_DATABASE_URL: runs, Pareto fronts, candidates."""
    from service.dashboard_command import run_dashboard

    settings = load_settings()
    raise typer.Exit(
        run_dashboard(settings, host=host, port=port, api_url=api_url, worker=not no_worker, out=err)
    )
