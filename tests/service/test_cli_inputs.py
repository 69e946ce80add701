"""The CLI's contract for input: help everywhere, --json documents, and one clear error per bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

COMMANDS = ("problems", "evaluate", "optimize", "runs", "show", "export", "devices")
HONEST = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n        return torch.softmax(x, dim=-1)\n"
)


def assert_clean_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.code == 2, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_every_command_has_help_and_is_in_the_readme(crucible) -> None:  # type: ignore[no-untyped-def]
    top = crucible("--help")
    assert top.code == 0
    readme = (REPO / "README.md").read_text()
    for command in COMMANDS:
        assert command in top.stdout
        sub = crucible(command, "--help")
        assert sub.code == 0 and "Usage" in sub.stdout
        assert f"crucible {command}" in readme, f"README does not mention `crucible {command}`"


def test_problems_json_lists_the_builtins(crucible) -> None:  # type: ignore[no-untyped-def]
    result = crucible("problems", "--json")
    assert result.code == 0
    names = {p["name"] for p in result.json()}
    assert {"softmax", "layernorm", "rmsnorm", "matmul"} <= names


def test_bad_problem_file(crucible, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad_problem.py"
    bad.write_text("import torch\nclass Model:\n    pass\n")
    assert_clean_error(crucible("problems", str(bad)), "bad_problem.py", "Model(torch.nn.Module)")
    assert_clean_error(crucible("evaluate", str(bad), str(bad)), "bad_problem.py")


@pytest.mark.parametrize("content", [None, b"\xff\xfe\x00binary"])
def test_bad_candidate_file(crucible, tmp_path: Path, content: bytes | None) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "candidate.py"
    if content is not None:
        path.write_bytes(content)
    assert_clean_error(crucible("evaluate", "softmax", str(path)), "candidate")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("optimize", "softmax", "--budget", "0"), "budget"),
        (("optimize", "softmax", "--device", "tpu"), "unknown device"),
        (("optimize", "softmax", "--proposer", "magic"), "unknown proposer"),
        (("optimize", "no_such_problem"), "neither a built-in"),
        (("optimize", "softmax", "--size", "rows"), "NAME=VALUE"),
        (("optimize",), "give a PROBLEM"),
        (("show", "999"), "999"),
        (("export", "999", "--out", "x"), "999"),
        (("export", "latest", "--out", "x"), "run id"),
        (("optimize", "softmax", "--budget", "many"), "--budget"),
        (("runs", "--limit", "0"), "limit"),
    ],
)
def test_bad_options_get_one_message(crucible, args: tuple[str, ...], fragment: str) -> None:  # type: ignore[no-untyped-def]
    result = crucible(*args)
    assert result.code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr


def test_bad_config_choice(crucible, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "candidate.py"
    path.write_text(HONEST)
    assert_clean_error(crucible("evaluate", "softmax", str(path), "--config", "block=64"), "CONFIG_SPACE")


def test_json_error_document(crucible) -> None:  # type: ignore[no-untyped-def]
    result = crucible("show", "12345", "--json")
    assert result.code == 2
    assert "12345" in result.json()["error"]


def test_runs_on_an_empty_store(crucible) -> None:  # type: ignore[no-untyped-def]
    result = crucible("runs", "--json")
    assert result.code == 0 and result.json() == []
