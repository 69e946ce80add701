"""``crucible serve`` end to end: a run posted to the API is run by the worker beside it; SIGTERM
stops the server and drains the worker; a public bind without a token is refused."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # a whole optimization behind the API

TOKEN = "serve-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(port: int, method: str, path: str, body: Any = None, token: str | None = TOKEN) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait_until_up(port: int, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        try:
            if call(port, "GET", "/healthz", token=None)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("the server did not come up")


def test_a_posted_run_is_run_by_the_worker_beside_the_api(crucible_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**crucible_env, "CRUCIBLE_API_TOKEN": TOKEN, "CRUCIBLE_WORKER_POLL_S": "0.2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(port, proc)
        assert call(port, "GET", "/api/v1/runs", token=None)[0] == 401
        code, run = call(port, "POST", "/api/v1/runs", {"problem": "softmax", "budget": 3, "device": "cpu"})
        assert code == 201 and run["status"] == "queued", run
        deadline = time.monotonic() + 420
        while True:
            code, detail = call(port, "GET", f"/api/v1/runs/{run['id']}")
            assert code == 200, detail
            if detail["status"] in ("completed", "failed", "cancelled", "interrupted"):
                break
            assert time.monotonic() < deadline, detail
            time.sleep(1.0)
        assert detail["status"] == "completed" and detail["evaluated"] == 3, detail
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert "back in the queue" in output


def test_a_public_bind_without_a_token_is_refused(crucible) -> None:  # type: ignore[no-untyped-def]
    refused = crucible("serve", "--host", "0.0.0.0", "--port", str(free_port()), timeout=60)
    assert refused.code == 2 and "CRUCIBLE_API_TOKEN" in refused.stderr
