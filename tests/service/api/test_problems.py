"""Problems over HTTP: the built-ins, and uploaded KernelBench files, which are loaded in a process of
their own: a good one is kept and can be run, a broken or hostile one is refused with the reason
and leaves the server as it was."""

from __future__ import annotations

import textwrap

import pytest

from evaluator.sandbox import landlock
from service.schemas.api import MAX_PROBLEM_SOURCE_CHARS

KERNELBENCH = textwrap.dedent(
    """\
    import torch
    import torch.nn as nn

    batch_size = 16
    dim = 256


    class Model(nn.Module):
        def __init__(self):
            super().__init__()

        def forward(self, x):
            return torch.relu(x)


    def get_inputs():
        return [torch.randn(batch_size, dim)]


    def get_init_inputs():
        return []
    """
)


def upload(api, name: str, source: str):
    return api.client.post("/api/v1/problems", json={"name": name, "source": source})


def listed(api) -> dict[str, dict]:
    response = api.client.get("/api/v1/problems")
    assert response.status_code == 200
    return {p["name"]: p for p in response.json()}


def test_the_builtin_problems_are_listed_with_shapes_and_families(api) -> None:
    problems = listed(api)
    assert {"softmax", "matmul", "layernorm"} <= set(problems)
    softmax = problems["softmax"]
    assert softmax["builtin"] is True and softmax["families"] and softmax["shapes"][0]["name"]


def test_a_good_kernelbench_file_is_kept_listed_and_idempotent(api) -> None:
    response = upload(api, "relu_kb", KERNELBENCH)
    assert response.status_code == 201, response.text
    problem = response.json()
    assert problem["name"] == "relu_kb" and problem["builtin"] is False
    assert [s["name"] for s in problem["shapes"]] == ["default"]
    kept = api.home / "data" / "problems" / "relu_kb.py"  # beside the SQLite database
    assert kept.read_text() == KERNELBENCH and kept.with_suffix(".json").is_file()
    assert listed(api)["relu_kb"]["builtin"] is False

    again = upload(api, "relu_kb", KERNELBENCH)
    assert again.status_code == 200 and again.json() == problem
    other = upload(api, "relu_kb", KERNELBENCH.replace("relu", "tanh"))
    assert other.status_code == 409 and "already uploaded as 'relu_kb'" in other.json()["error"]
    crlf = upload(api, "relu_kb", KERNELBENCH.replace("\n", "\r\n"))
    assert crlf.status_code == 200  # the same file, with Windows line ends
    builtin = upload(api, "softmax", KERNELBENCH)
    assert builtin.status_code == 409 and "built-in" in builtin.json()["error"]
    assert kept.read_text() == KERNELBENCH


def test_an_uploaded_problem_can_be_named_by_a_run(api) -> None:
    assert upload(api, "relu_runs", KERNELBENCH).status_code == 201
    offline = api.client.post("/api/v1/runs", json={"problem": "relu_runs", "proposer": "offline"})
    assert offline.status_code == 422 and "no variant families" in offline.json()["error"]

    response = api.client.post("/api/v1/runs", json={"problem": "relu_runs", "proposer": "llm", "budget": 3})
    assert response.status_code == 201, response.text
    run = api.store.get_run(response.json()["run_id"])
    assert run.problem_name == "relu_runs" and run.problem_source == KERNELBENCH
    assert run.problem_path == api.home / "data" / "problems" / "relu_runs.py"

    scaled = api.client.post(
        "/api/v1/runs", json={"problem": "relu_runs", "proposer": "llm", "overrides": {"batch_size": 2}}
    )
    assert scaled.status_code == 201, scaled.text
    assert scaled.json()["overrides"] == {"batch_size": 2}
    wrong = api.client.post(
        "/api/v1/runs", json={"problem": "relu_runs", "proposer": "llm", "overrides": {"nope": 2}}
    )
    assert wrong.status_code == 422 and "cannot override 'nope'" in wrong.json()["error"]


BROKEN = [
    ("no_model", "import torch\n\ndef get_inputs():\n    return []\n", "must define class Model"),
    ("syntax", "import torch\nclass Model(torch.nn.Module)\n", "syntax error at line 2"),
    ("raises", "raise RuntimeError('no GPU here')\n", "failed to import: RuntimeError: no GPU here"),
    ("exits", "import os\nos._exit(1)\n", "exited with status 1 before giving a verdict"),
    ("sys_exit", "import sys\nsys.exit(3)\n", "SystemExit: 3"),
    ("segfault", "import ctypes\nctypes.string_at(0)\n", "before giving a verdict"),
]


@pytest.mark.parametrize(("name", "source", "reason"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_file_is_refused_with_the_reason(api, name: str, source: str, reason: str) -> None:
    response = upload(api, f"broken_{name}", source)
    assert response.status_code == 422, response.text
    assert reason in response.json()["error"]
    assert f"broken_{name}" not in listed(api)
    assert api.alive()


def test_a_file_that_loops_at_import_times_out_and_the_server_carries_on(api) -> None:
    response = upload(api, "loops", "while True:\n    pass\n")
    assert response.status_code == 422
    assert "did not finish within 15 s" in response.json()["error"]
    assert api.alive() and "loops" not in listed(api)


@pytest.mark.skipif(landlock.abi_version() < 6, reason="needs Landlock ABI 6 (signal scoping)")
def test_a_file_cannot_signal_the_server_or_write_outside_its_folder(api) -> None:
    kill = upload(api, "killer", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")
    assert kill.status_code == 422 and "PermissionError" in kill.json()["error"]
    outside = api.home / "planted.txt"
    write = upload(api, "writer", f"open({str(outside)!r}, 'w').write('x')\n")
    assert write.status_code == 422 and "Permission denied" in write.json()["error"]
    assert not outside.exists()
    assert api.alive()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": "../escape", "source": KERNELBENCH}, "name: String should match pattern"),
        (
            {"name": "big", "source": "#" * (MAX_PROBLEM_SOURCE_CHARS + 1)},
            "source: String should have at most",
        ),
        ({"name": "empty", "source": ""}, "source: String should have at least 1"),
        ({"name": "x", "source": KERNELBENCH, "path": "/etc/passwd"}, "path: Extra inputs are not permitted"),
        ({"source": KERNELBENCH}, "name: Field required"),
    ],
)
def test_bad_upload_bodies_get_422(api, body: dict[str, str], reason: str) -> None:
    response = api.client.post("/api/v1/problems", json=body)
    assert response.status_code == 422 and reason in response.json()["error"]
