"""The problem loader: built-ins, plain KernelBench files, metadata, overrides and clear errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kernels.errors import ProblemError
from kernels.families import load_families
from kernels.problem import builtin_names, load_problem

PLAIN_KERNELBENCH = """
import torch

batch_size = 4096
dim = 393216


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return torch.softmax(x, dim=1)


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
"""


def write(tmp_path: Path, text: str, name: str = "problem.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_at_least_six_builtins_with_required_names() -> None:
    names = builtin_names()
    assert len(names) >= 6
    for required in ("softmax", "layernorm", "rmsnorm", "matmul"):
        assert required in names


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_loads_with_cpu_and_gpu_shapes_and_two_families(name: str) -> None:
    problem = load_problem(name)
    assert problem.builtin
    assert len(problem.shapes_for("cpu")) >= 2
    assert len(problem.shapes_for("cuda")) >= 2
    assert all(s.bytes_moved or s.flops for s in problem.shapes), (
        "built-ins declare their work for the roofline"
    )
    families = load_families(problem)
    languages = {f.language.value for f in families}
    assert {"triton", "pytorch"} <= languages, f"{name} needs a Triton and a PyTorch family, has {languages}"
    assert all(f.config_space for f in families), "every family declares a CONFIG_SPACE"


def test_plain_kernelbench_file_is_one_shape(tmp_path: Path) -> None:
    problem = load_problem(write(tmp_path, PLAIN_KERNELBENCH))
    assert [s.name for s in problem.shapes] == ["default"]
    assert not problem.scaled_down
    assert problem.shapes[0].flops is None


def test_overrides_scale_a_kernelbench_file_down(tmp_path: Path) -> None:
    from kernels.problem import import_problem_module

    path = write(tmp_path, PLAIN_KERNELBENCH)
    problem = load_problem(path, {"batch_size": 8, "dim": 64})
    assert problem.scaled_down
    module = import_problem_module(problem.path, problem.overrides)
    assert tuple(module.get_inputs()[0].shape) == (8, 64)


def test_override_of_unknown_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProblemError, match="not a module-level integer"):
        load_problem(write(tmp_path, PLAIN_KERNELBENCH), {"nope": 3})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "import torch\ndef get_inputs(): return []\ndef get_init_inputs(): return []\n",
            "must define class Model",
        ),
        (
            "import torch\nclass Model(torch.nn.Module):\n    pass\ndef get_init_inputs(): return []\n",
            "get_inputs",
        ),
        ("def broken(:\n", "syntax error at line 1"),
        ("raise RuntimeError('boom')\n", "failed to import: RuntimeError: boom"),
        (PLAIN_KERNELBENCH + "\nSHAPES = 'big'\n", "SHAPES must be a non-empty list"),
        (PLAIN_KERNELBENCH + "\nSHAPES = [{'name': 'a', 'devices': ['tpu']}]\n", "devices"),
        (PLAIN_KERNELBENCH + "\nSHAPES = [{'name': 'a'}, {'name': 'a'}]\n", "unique"),
        (PLAIN_KERNELBENCH + "\nTOLERANCES = {'float32': {'atol': 'x'}}\n", "numeric atol and rtol"),
        (PLAIN_KERNELBENCH + "\ndef flops(s):\n    return -1\n", "flops"),
    ],
)
def test_bad_problem_files_get_one_clear_error_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProblemError) as info:
        load_problem(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(ProblemError, match="neither a built-in"):
        load_problem(tmp_path / "absent.py")
    with pytest.raises(ProblemError, match=r"must be a \.py file"):
        load_problem(write(tmp_path, "x", name="problem.txt"))


def test_shapes_for_unknown_device_kind_is_an_error(tmp_path: Path) -> None:
    text = PLAIN_KERNELBENCH + "\nSHAPES = [{'name': 'gpu_only', 'devices': ['cuda']}]\n"
    problem = load_problem(write(tmp_path, text))
    with pytest.raises(ProblemError, match="no shape for device 'cpu'"):
        problem.shapes_for("cpu")


def test_the_contract_modules_hold_every_builtin_once() -> None:
    from tests.kernels.builtin_contract import KINDS

    held = [name for names in KINDS.values() for name in names]
    assert sorted(held) == sorted(builtin_names())
