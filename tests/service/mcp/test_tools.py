"""Every tool of ``crucible mcp``, through the SDK's client over stdio against the real server:
the evaluator's verdicts, problems kept as uploads, runs queued for workers, what the store
found, and a kernel written into a project, where its own test passes. Bad calls come back as
error results naming the fault, and the server keeps answering."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest
import torch

from kernels.problem import BUILTIN_DIR
from tests.service.mcp.conftest import RUN_BUDGET, RUN_PROBLEM, Mcp, wait_for_run

pytestmark = pytest.mark.anyio

TOOLS = {
    "create_problem",
    "evaluate_candidate",
    "start_run",
    "run_status",
    "cancel_run",
    "pareto",
    "search_kernels",
    "get_kernel",
    "apply_kernel",
}
FUSED = (BUILTIN_DIR / "bias_gelu" / "torch_fused.py").read_text()

USER_PROBLEM = """\
import torch

SHAPES = [{"name": "a", "n": 32}, {"name": "b", "n": 48}]


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2.0


def get_inputs(n=32):
    return [torch.randn(n, n)]


def get_init_inputs():
    return []
"""
USER_FAMILY = """\
import torch

CONFIG_SPACE = {"clamp": [True, False]}


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return (x.clamp(min=0) if CONFIG["clamp"] else torch.relu(x)) * 2.0
"""


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_every_tool_is_listed_with_a_description_and_the_server_says_how_to_use_them(mcp: Mcp):
    listed = (await mcp.session.list_tools()).tools
    assert {t.name for t in listed} == TOOLS
    for tool in listed:
        assert tool.description and len(tool.description) > 80, tool.name
        assert tool.output_schema is not None, tool.name
    for step in ("create_problem", "evaluate_candidate", "start_run", "run_status", "apply_kernel"):
        assert step in mcp.instructions


async def test_evaluate_candidate_returns_the_evaluators_verdict_with_progress(mcp: Mcp):
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    verdict = await mcp.ok(
        "evaluate_candidate",
        {"problem": RUN_PROBLEM, "source": FUSED, "config": {"impl": "inplace", "chunk_rows": "64"}},
        progress_callback=on_progress,
    )
    assert verdict["status"] == "ok", verdict["reason"]
    assert verdict["config"] == {"impl": "inplace", "chunk_rows": 64}  # "64" matched to CONFIG_SPACE
    assert {s["shape"] for s in verdict["shapes"]} == {"small", "ragged"}
    assert verdict["device"]["key"] == "cpu" and verdict["candidate_hash"]
    assert progress, "no progress notification while the evaluation ran"
    assert any("verdict: ok" in str(log.data) for log in mcp.logs)
    assert "reference" in verdict["phase_seconds"]

    # The agent's next edit of the same problem is judged against the reference already prepared.
    again = await mcp.ok(
        "evaluate_candidate", {"problem": RUN_PROBLEM, "source": FUSED, "config": {"impl": "inplace"}}
    )
    assert again["status"] == "ok", again["reason"]
    assert "reference" not in (again["phase_seconds"] or {}), again["phase_seconds"]


async def test_a_candidate_that_does_not_compile_is_a_verdict_not_an_error(mcp: Mcp):
    verdict = await mcp.ok("evaluate_candidate", {"problem": RUN_PROBLEM, "source": "class ModelNew(:\n"})
    assert verdict["status"] == "compile_error"
    assert "syntax" in verdict["reason"].lower()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"problem": "no_such_problem"}, "unknown problem 'no_such_problem'"),
        ({"problem": "/nowhere/op.py"}, "neither a built-in"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"device": "cuda:7"}, "cuda:7 requested but this machine has"),
        ({"device": "cuda:all"}, "one device at a time"),
        ({"config": {"impl": "magic"}}, "impl"),
        ({"source": ""}, "at least 1 character"),
    ],
    ids=["unknown-problem", "missing-file", "bad-device", "absent-gpu", "all-gpus", "bad-config", "empty"],
)
async def test_evaluate_candidate_refuses_bad_arguments(mcp: Mcp, arguments, expected):
    if arguments.get("device") == "cuda:7" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    message = await mcp.error("evaluate_candidate", {"problem": RUN_PROBLEM, "source": FUSED, **arguments})
    assert expected in message


async def test_create_problem_keeps_a_file_validated_apart_and_start_run_finds_it(mcp: Mcp):
    project = mcp.home / "project"
    (project / "relu2_variants").mkdir(parents=True)
    path = project / "relu2.py"
    path.write_text(USER_PROBLEM)
    (project / "relu2_variants" / "torch_clamp.py").write_text(USER_FAMILY)

    created = await mcp.ok("create_problem", {"path_or_source": str(path)})
    assert (created["name"], created["created"], created["source_file"]) == ("relu2", True, str(path))
    assert [s["name"] for s in created["problem"]["shapes"]] == ["a", "b"]
    assert created["families"] == ["torch_clamp"] and created["run_with"] == str(path)
    again = await mcp.ok("create_problem", {"path_or_source": str(path)})
    assert (again["name"], again["created"]) == ("relu2", False)
    verdict = await mcp.ok(
        "evaluate_candidate", {"problem": "relu2", "source": USER_FAMILY, "config": {"clamp": False}}
    )
    assert (verdict["status"], verdict["config"]) == ("ok", {"clamp": False}), verdict["reason"]
    assert [s["shape"] for s in verdict["shapes"]] == ["a", "b"]

    from_source = await mcp.ok("create_problem", {"path_or_source": USER_PROBLEM, "name": "relu_src"})
    assert from_source["created"] and from_source["run_with"] == "relu_src" and from_source["families"] == []

    queued = await mcp.ok("start_run", {"problem": created["run_with"], "budget": 2})
    assert (queued["problem"], queued["budget"]) == ("relu2", 2)
    assert queued["status"] in ("queued", "running")  # the server's worker may have claimed it already
    cancelled = await mcp.ok("cancel_run", {"run_id": queued["id"]})
    if cancelled["status"] != "cancelled":  # the server's worker claimed it first: asked to stop
        assert cancelled["status"] == "running" and cancelled["cancel_requested"], cancelled
        final = await wait_for_run(mcp, queued["id"], {"cancelled", "completed"})
        assert final["status"] in ("cancelled", "completed"), final
    message = await mcp.error("start_run", {"problem": "relu_src", "budget": 2})
    assert "no variant families" in message


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"path_or_source": "/nowhere/missing.py"}, "missing.py does not exist"),
        ({"path_or_source": str(BUILTIN_DIR)}, "must be a .py file"),
        ({"path_or_source": "import torch\nclass Model(:\n    pass\n", "name": "broken"}, "syntax error"),
        ({"path_or_source": USER_PROBLEM, "name": "softmax"}, "built-in problem's name"),
        ({"path_or_source": USER_PROBLEM, "name": "bad name!"}, "not usable"),
        ({"path_or_source": USER_PROBLEM.replace("* 2.0", "* 3.0"), "name": "relu_src"}, "different problem"),
    ],
    ids=["missing-file", "not-a-file", "syntax-error", "builtin-name", "bad-name", "taken-name"],
)
async def test_create_problem_refuses_what_it_cannot_keep(mcp: Mcp, arguments, expected):
    if arguments.get("name") == "relu_src":  # needs the upload of the test above, whichever runs first
        await mcp.call("create_problem", {"path_or_source": USER_PROBLEM, "name": "relu_src"})
    assert expected in await mcp.error("create_problem", arguments)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"budget": 0}, "greater than or equal to 1"),
        ({"problem": "no_such_problem"}, "unknown problem"),
        ({"device": "gpu0"}, "unknown device"),
        ({"proposer": "magic"}, "proposer"),
    ],
    ids=["budget-0", "unknown-problem", "bad-device", "bad-proposer"],
)
async def test_start_run_refuses_bad_arguments(mcp: Mcp, arguments, expected):
    assert expected in await mcp.error("start_run", {"problem": RUN_PROBLEM, "budget": 2, **arguments})


async def test_run_status_and_pareto_read_the_executed_run(mcp: Mcp, executed_run: int):
    status = await mcp.ok("run_status", {"run_id": executed_run})
    assert (status["status"], status["evaluated"], status["budget"]) == ("completed", RUN_BUDGET, RUN_BUDGET)
    assert status["best"] is not None and status["best"]["status"] == "ok"
    front = await mcp.ok("pareto", {"run_id": executed_run})
    assert front["run_id"] == executed_run and front["front"]
    assert all(c["status"] == "ok" and c["result"]["shapes"] for c in front["front"])
    finished = await mcp.ok("cancel_run", {"run_id": executed_run})
    assert finished["status"] == "completed"  # a finished run keeps its status


@pytest.mark.parametrize("tool", ["run_status", "cancel_run", "pareto"])
async def test_a_missing_run_is_an_error_naming_it(mcp: Mcp, tool: str):
    assert "run 999999 does not exist" in await mcp.error(tool, {"run_id": 999999})
    assert "greater than or equal to 1" in await mcp.error(tool, {"run_id": 0})


async def test_search_kernels_lists_passing_kernels_best_first_with_filters(mcp: Mcp, executed_run: int):
    found = (await mcp.ok("search_kernels", {"problem": RUN_PROBLEM, "device": "cpu"}))["items"]
    assert (
        found and {k["problem"] for k in found} == {RUN_PROBLEM} and {k["device"] for k in found} == {"cpu"}
    )
    ranked = [k["speedup"] for k in found if k["speedup"] is not None]
    assert ranked == sorted(ranked, reverse=True)
    assert [k["speedup"] for k in found[: len(ranked)]] == ranked  # unranked ones come last
    assert (await mcp.ok("search_kernels", {"problem": RUN_PROBLEM, "min_speedup": 1e9}))["items"] == []
    assert (await mcp.ok("search_kernels", {"problem": RUN_PROBLEM, "device": "cuda:0"}))["items"] == []
    assert len((await mcp.ok("search_kernels", {"limit": 1}))["items"]) == 1
    assert "unknown device" in await mcp.error("search_kernels", {"device": "tpu"})
    assert "limit" in await mcp.error("search_kernels", {"limit": 0})


async def test_get_kernel_shows_source_config_verdict_and_metrics(mcp: Mcp, executed_run: int):
    best = (await mcp.ok("run_status", {"run_id": executed_run}))["best"]
    kernel = await mcp.ok("get_kernel", {"candidate_id": best["candidate_id"]})
    assert "class ModelNew" in kernel["source"] and kernel["config"] == best["config"]
    assert kernel["result"]["status"] == "ok" and kernel["result"]["shapes"]
    assert "candidate 999999 does not exist" in await mcp.error("get_kernel", {"candidate_id": 999999})


async def test_apply_kernel_writes_a_tested_kernel_and_never_overwrites_foreign_files(
    mcp: Mcp, executed_run: int, clean_env: dict[str, str]
):
    best = (await mcp.ok("run_status", {"run_id": executed_run}))["best"]
    project = mcp.home / "app"
    project.mkdir()
    target = project / "model.py"
    target.write_text("import torch\n")

    applied = await mcp.ok("apply_kernel", {"candidate_id": best["candidate_id"], "target_file": str(target)})
    folder = project / "crucible_kernels" / RUN_PROBLEM
    assert applied["directory"] == str(folder)
    assert {Path(f["path"]).name: f["action"] for f in applied["files"]} == {
        f"{RUN_PROBLEM}_kernel.py": "created",
        f"{RUN_PROBLEM}_reference.py": "created",
        f"test_{RUN_PROBLEM}_kernel.py": "created",
        "manifest.json": "created",
    }
    check = (
        "import sys, pytest\n"
        f"{applied['import_line']}, run\n"
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', sys.argv[1]]))\n"
    )
    ran = await anyio.run_process(
        [sys.executable, "-c", check, applied["test"]],
        cwd=project,
        env={**clean_env, "TRITON_INTERPRET": "1"},
        check=False,
    )
    assert ran.returncode == 0, ran.stdout.decode() + ran.stderr.decode()

    again = await mcp.ok("apply_kernel", {"candidate_id": best["candidate_id"], "target_file": str(target)})
    assert {f["action"] for f in again["files"]} == {"unchanged"}

    test_file = Path(applied["test"])
    test_file.write_text(test_file.read_text() + "# my own check\n")
    before = snapshot(project)
    message = await mcp.error(
        "apply_kernel", {"candidate_id": best["candidate_id"], "target_file": str(target)}
    )
    assert str(test_file) in message and "edited since Crucible wrote it" in message
    assert snapshot(project) == before

    other = mcp.home / "other"
    mine = other / "crucible_kernels" / RUN_PROBLEM / f"{RUN_PROBLEM}_kernel.py"
    mine.parent.mkdir(parents=True)
    mine.write_text("# the user's own kernel\n")
    (other / "model.py").write_text("import torch\n")
    before = snapshot(other)
    message = await mcp.error(
        "apply_kernel", {"candidate_id": best["candidate_id"], "target_file": str(other / "model.py")}
    )
    assert str(mine) in message and "not written by Crucible" in message
    assert snapshot(other) == before


async def test_apply_kernel_refuses_a_missing_candidate_or_target(mcp: Mcp, executed_run: int):
    missing = mcp.home / "nothing-here.py"
    best = (await mcp.ok("run_status", {"run_id": executed_run}))["best"]
    message = await mcp.error(
        "apply_kernel", {"candidate_id": best["candidate_id"], "target_file": str(missing)}
    )
    assert f"target file {missing} does not exist" in message
    target = mcp.home / "lonely" / "model.py"
    target.parent.mkdir()
    target.write_text("import torch\n")
    message = await mcp.error("apply_kernel", {"candidate_id": 999999, "target_file": str(target)})
    assert "candidate 999999 does not exist" in message
    assert not (mcp.home / "crucible_kernels").exists() and snapshot(target.parent) == {
        "model.py": b"import torch\n"
    }
