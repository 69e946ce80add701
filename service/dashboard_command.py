"""``crucible dashboard``: the Streamlit app over the store, with an API beside it for actions.

The dashboard reads the store directly and sends start and cancel to an HTTP API. Without
``--api-url`` this command starts one (``crucible serve`` on a free loopback port, with a queue
worker unless ``--no-worker``), so a run queued from the page really runs. Like ``serve``, it
binds to loopback unless ``CRUCIBLE_API_TOKEN`` is set: the pages have no login of their own.
"""

from __future__ import annotations

import importlib.util
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy.engine import make_url

from dashboard.config import DashboardConfig, write_config
from kernels.errors import CrucibleError
from service.serve_command import check_bind
from service.settings import Settings, process_environment

API_START_TIMEOUT_S = 60.0


def app_script() -> Path:
    """The dashboard's entry script, found without importing the package (and Streamlit)."""
    spec = importlib.util.find_spec("dashboard")
    if spec is None or spec.origin is None:
        raise CrucibleError("the dashboard package is not installed: pip install -e '.[dashboard]'")
    if importlib.util.find_spec("streamlit") is None:
        raise CrucibleError("the dashboard needs Streamlit and plotly: pip install -e '.[dashboard]'")
    return Path(spec.origin).parent / "app.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(settings: Settings, *, worker: bool, out: Console) -> tuple[subprocess.Popen[bytes], str]:
    """``crucible serve`` on a free loopback port; returns it once ``/healthz`` answers."""
    port = free_port()
    command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if not worker:
        command.append("--no-worker")
    env = process_environment() | {"CRUCIBLE_DATABASE_URL": settings.database_url}
    api = subprocess.Popen(command, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + API_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise CrucibleError(f"the API for the dashboard exited with status {api.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                out.print(f"API for start and cancel on {url}{' with a queue worker' if worker else ''}")
                return api, url
        except httpx.TransportError:
            time.sleep(0.3)
    api.terminate()
    raise CrucibleError(f"the API for the dashboard did not answer within {API_START_TIMEOUT_S:.0f} s")


def run_dashboard(
    settings: Settings, *, host: str, port: int, api_url: str | None, worker: bool, out: Console
) -> int:
    check_bind(settings, host)
    script = app_script()
    api: subprocess.Popen[bytes] | None = None
    if api_url is None:
        api, api_url = start_api(settings, worker=worker, out=out)
    folder = Path(tempfile.mkdtemp(prefix="crucible-dashboard-"))  # mkdtemp: owner-only
    app: subprocess.Popen[bytes] | None = None
    try:
        config = write_config(DashboardConfig(settings.database_url, api_url), folder / "config.json")
        command = [
            sys.executable, "-m", "streamlit", "run", str(script),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer",
            "--theme.base", "light", "--theme.primaryColor", "#1f4e99",
            "--", "--config", str(config),
        ]  # fmt: skip
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        out.print(f"dashboard on http://{host}:{port} over {shown}")
        app = subprocess.Popen(command)
        return app.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for child in (app, api):
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
        shutil.rmtree(folder, ignore_errors=True)
