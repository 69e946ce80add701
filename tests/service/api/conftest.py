"""A real API server for each test module: uvicorn in a subprocess, on a free loopback port, over a
fresh SQLite store, with a bearer token.

The server's settings come from its environment, as in production (``CRUCIBLE_DATABASE_URL``,
``CRUCIBLE_API_TOKEN``, a fake but configured LLM endpoint so ``--proposer llm`` runs can be
queued); only the upload timeout is shortened, so a problem file that loops at import is
given up on in seconds. The tests open the same SQLite file through the Store to put in what
a worker would (candidates and verdicts), so no evaluation runs here.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate, Origin
from kernels.config import Config
from store import Store

REPO = Path(__file__).resolve().parents[3]
TOKEN = "test-token-0123456789"
UPLOAD_TIMEOUT_S = 15.0
CPU = DeviceInfo(
    key="cpu", kind="cpu", name="x86_64", driver=None, torch_version="2.4.0", triton_version=None
)

# Binds a socket on port 0 itself, says which port it got, and serves the app on that socket.
LAUNCHER = """
import socket, sys
from pathlib import Path
import uvicorn
from service.api.app import create_app
from service.api.state import ApiLimits
from service.settings import Settings

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
app = create_app(Settings(), limits=ApiLimits(upload_timeout_s=float(sys.argv[2])))
Path(sys.argv[1]).write_text(str(sock.getsockname()[1]))
uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
"""


@dataclass
class Api:
    """The running server: its URL, an authorized client, the store under it and its process."""

    base_url: str
    client: httpx.Client
    store: Store
    process: subprocess.Popen[bytes]
    home: Path
    token: str = TOKEN

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60)

    def alive(self) -> bool:
        return self.process.poll() is None and self.client.get("/healthz").status_code == 200


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = tmp_path_factory.mktemp("api")
    db_url = f"sqlite:///{home / 'data' / 'crucible.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRUCIBLE_", "OPENAI_", "RAY_"))}
    env.update(
        CRUCIBLE_DATABASE_URL=db_url,
        CRUCIBLE_API_TOKEN=TOKEN,
        CRUCIBLE_WORKDIR=str(home / "work"),
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",  # never called: runs are only queued here
        CRUCIBLE_MODELS="fake-model",
        PYTHONPATH=str(REPO),
    )
    port_file = home / "port"
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(port_file), str(UPLOAD_TIMEOUT_S)],
        env=env,
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client: httpx.Client | None = None
    store: Store | None = None
    try:
        deadline = time.monotonic() + 120
        while not (port_file.exists() and port_file.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not start:\n{(home / 'server.log').read_text()}")
            time.sleep(0.1)
        base_url = f"http://127.0.0.1:{port_file.read_text()}"
        client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not answer:\n{(home / 'server.log').read_text()}")
            time.sleep(0.1)
        store = Store(db_url)
        yield Api(base_url, client, store, process, home)
    finally:
        if client is not None:
            client.close()
        if store is not None:
            store.close()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def make_candidate(n: int, *, family: str = "scale") -> Candidate:
    """A distinct, exportable candidate per ``n`` (it defines ModelNew)."""
    source = (
        "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
        "    def forward(self, x):\n        return torch.softmax(x, dim=-1)\n"
        f"VARIANT = {n}\n"
    )
    return Candidate(source=source, config=Config.of({}), family=family, origin=Origin.OFFLINE)


def make_result(status: Status = Status.OK, *, speedup: float = 2.0, duration_s: float = 1.25) -> EvalResult:
    median = 100.0 / speedup
    shapes = tuple(
        ShapeMetrics(
            shape=name,
            median_us=median,
            iqr_us=median / 20,
            samples=50,
            max_abs_err=1e-6,
            max_rel_err=float("inf") if name == "wide" else 1e-5,  # inf goes out as null
            peak_mem_bytes=4096,
            ref_median_us=median * speedup,
            ref_iqr_us=median * speedup / 20,
            speedup=speedup,
        )
        for name in ("small", "wide")
    )
    ok = status is Status.OK
    return EvalResult(
        status=status,
        stage=Stage.DONE if ok else Stage.CORRECTNESS,
        reason="ok" if ok else "wrong output on shape small",
        shapes=shapes if ok else (),
        device=CPU,
        duration_s=duration_s,
    )


def _queue(api: Api, problem: str = "softmax", **fields: object) -> dict[str, Any]:
    response = api.client.post("/api/v1/runs", json={"problem": problem, "proposer": "offline", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# The builders as fixtures returning functions, as in tests/store/conftest.py: no helper module.


@pytest.fixture
def queue_run(api: Api) -> Callable[..., dict[str, Any]]:
    """Queue a run through the API (offline proposer unless told) and return its document."""
    return functools.partial(_queue, api)


@pytest.fixture
def candidate_factory() -> Callable[..., Candidate]:
    return make_candidate


@pytest.fixture
def result_factory() -> Callable[..., EvalResult]:
    return make_result
