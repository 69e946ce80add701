"""``crucible optimize --proposer llm`` end to end: a real CLI process, a real sandboxed evaluator on
the CPU, and a scripted OpenAI-compatible server on loopback that writes good, bad and no code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.scripted_llm import HttpError, Reply, ScriptedLLM

pytestmark = pytest.mark.slow  # whole optimizations in subprocesses

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

FAST = """Fusing the two operations:

```python
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.clamp_min(x, 0.0).mul_(2.0)
```
"""

WRONG = """```python
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return x * 2.0
```
"""


def test_an_llm_run_accounts_every_call_and_shows_them(crucible, crucible_env, tmp_path: Path):  # type: ignore[no-untyped-def]
    problem = tmp_path / "relu_twice.py"
    problem.write_text(PLAIN_KERNELBENCH)
    script = [Reply("I cannot help with that."), HttpError(503), Reply(WRONG), Reply(FAST)]
    with ScriptedLLM(script, then=Reply("still thinking")) as llm:
        crucible_env.update(
            OPENAI_BASE_URL=llm.base_url,
            CRUCIBLE_MODELS="scripted-model:1",
            CRUCIBLE_LLM_MAX_CONCURRENT="1",
            CRUCIBLE_LLM_PRICES="scripted-model=1000/4000",
            CRUCIBLE_LLM_MAX_ATTEMPTS="2",
        )
        result = crucible("optimize", str(problem), "--budget", "3", "--json")
        requests = len(llm.requests)
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["proposer"] == "llm" and report["status"] == "completed" and report["evaluated"] == 3
    usage = report["llm"]
    # The 503 was retried inside one call: one request more than calls.
    assert usage["calls"] == requests - 1 and usage["failed_calls"] == 1
    assert usage["candidates_ok"] == 1 and usage["cost_usd"] > 0
    assert report["best"]["status"] == "ok" and usage["prompt_tokens"] > 0
    # The reference as a first baseline, then the wrong kernel and the fast one the model wrote.
    candidates = crucible("show", str(report["run_id"]), "--json").json()["candidates"]
    assert [(c["origin"], c["status"]) for c in candidates] == [
        ("offline", "ok"),
        ("llm", "wrong_output"),
        ("llm", "ok"),
    ]
    shown = crucible("show", str(report["run_id"]))
    assert "LLM calls" in shown.stdout, shown.stdout[-3000:]
    assert "no_code" in shown.stdout and "scripted-model" in shown.stdout
    written = crucible("show", f"c{candidates[2]['candidate_id']}", "--prompt")
    assert written.code == 0, written.stderr
    assert "clamp_min" in written.stdout and "class Model(torch.nn.Module)" in written.stdout
    # The wrong output's reason reached the prompt that wrote the fast kernel.
    assert "wrong_output" in written.stdout
