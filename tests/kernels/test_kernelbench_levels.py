"""KernelBench files as they are, levels 1 to 3: a convolution, an argmax (integer output), a
loss (a scalar), a level-2 fusion with its own parameters, and whole small networks. Each file
is written the way KernelBench writes them (module-level sizes, ``Model``, ``get_inputs``,
``get_init_inputs``, no Crucible metadata) and must load and judge without edits: the
reference passes against itself, an honest rewrite passes, and a wrong one is caught with a
reason that says how."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult, Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem
from kernels.scaling import cpu_overrides

pytestmark = pytest.mark.slow  # a dozen evaluations

LIMITS = EvalLimits(warmup_ms=2.0, timing_budget_ms=20.0, min_samples=5, max_samples=20, profile=False)

CONV2D = """import torch
import torch.nn as nn

batch_size = 4
in_channels = 3
out_channels = 8
kernel_size = 3
height = 32
width = 32


class Model(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, bias: bool = False):
        super().__init__()
        self.conv2d = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(x)


def get_inputs():
    x = torch.randn(batch_size, in_channels, height, width)
    return [x]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]
"""

CONV2D_FUNCTIONAL = """import torch
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=False):
        super().__init__()
        self.conv2d = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
        )

    def forward(self, x):
        return F.conv2d(x.contiguous(memory_format=torch.channels_last), self.conv2d.weight)
"""

ARGMAX = """import torch
import torch.nn as nn

batch_size = 16
dim1 = 256
dim2 = 64


class Model(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.argmax(x, dim=self.dim)


def get_inputs():
    x = torch.randn(batch_size, dim1, dim2)
    return [x]


def get_init_inputs():
    return [1]
"""

ARGMAX_BY_MAX = """import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.max(x, dim=self.dim).indices
"""

ARGMIN_INSTEAD = ARGMAX_BY_MAX.replace("torch.max(x, dim=self.dim)", "torch.min(x, dim=self.dim)")

CROSS_ENTROPY = """import torch
import torch.nn as nn

batch_size = 128
num_classes = 10
input_shape = (num_classes,)
dim = 1


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, predictions, targets):
        return torch.nn.functional.cross_entropy(predictions, targets)


def get_inputs():
    return [torch.randn(batch_size, *input_shape), torch.randint(0, num_classes, (batch_size,))]


def get_init_inputs():
    return []
"""

NLL_OF_LOG_SOFTMAX = """import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, predictions, targets):
        logp = predictions - torch.logsumexp(predictions, dim=1, keepdim=True)
        return -logp.gather(1, targets[:, None]).mean()
"""

SUM_INSTEAD_OF_MEAN = NLL_OF_LOG_SOFTMAX.replace(".mean()", ".sum()")

CONV_RELU_BIAS = """import torch
import torch.nn as nn


class Model(nn.Module):
    \"\"\"A convolution, a ReLU, and a learned bias added afterwards.\"\"\"

    def __init__(self, in_channels, out_channels, kernel_size, bias_shape):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)
        self.bias = nn.Parameter(torch.randn(bias_shape))

    def forward(self, x):
        x = self.conv(x)
        x = torch.relu(x)
        x = x + self.bias
        return x


batch_size = 8
in_channels = 3
out_channels = 16
height, width = 24, 24
kernel_size = 3
bias_shape = (out_channels, 1, 1)


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size, bias_shape]
"""

MLP = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, input_size, layer_sizes, output_size):
        super().__init__()
        layers = []
        current_input_size = input_size
        for layer_size in layer_sizes:
            layers.append(nn.Linear(current_input_size, layer_size))
            layers.append(nn.ReLU())
            current_input_size = layer_size
        layers.append(nn.Linear(current_input_size, output_size))
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


batch_size = 2
input_size = 1000
layer_sizes = [400, 800]
output_size = 500


def get_inputs():
    return [torch.randn(batch_size, input_size)]


def get_init_inputs():
    return [input_size, layer_sizes, output_size]
"""

ATTENTION_BLOCK = """import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, num_heads)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        B, C, H, W = x.shape
        x = x.view(B, C, H * W).permute(2, 0, 1)
        attn_output, _ = self.attn(x, x, x)
        x = self.norm(attn_output + x)
        x = x.permute(1, 2, 0).view(B, C, H, W)
        return x


embed_dim = 64
num_heads = 4
batch_size = 2
num_channels = embed_dim
image_height = 8
image_width = 8


def get_inputs():
    return [torch.randn(batch_size, num_channels, image_height, image_width)]


def get_init_inputs():
    return [embed_dim, num_heads]
"""

# A level-1 file at KernelBench's own GPU sizes: far too big for a small machine as written.
BIG_CONV2D = (
    CONV2D.replace("batch_size = 4", "batch_size = 256")
    .replace("height = 32", "height = 512")
    .replace("width = 32", "width = 512")
)


def as_candidate(source: str) -> str:
    return source + "\n\nclass ModelNew(Model):\n    pass\n"


CASES = {
    # name: (problem source, {candidate name: (candidate source, expected status, reason part)})
    "conv2d": (
        CONV2D,
        {"itself": (as_candidate(CONV2D), Status.OK, ""), "functional": (CONV2D_FUNCTIONAL, Status.OK, "")},
    ),
    "argmax": (
        ARGMAX,
        {
            "itself": (as_candidate(ARGMAX), Status.OK, ""),
            "max_indices": (ARGMAX_BY_MAX, Status.OK, ""),
            "argmin": (ARGMIN_INSTEAD, Status.WRONG_OUTPUT, "integer elements differ"),
        },
    ),
    "cross_entropy_loss": (
        CROSS_ENTROPY,
        {
            "itself": (as_candidate(CROSS_ENTROPY), Status.OK, ""),
            "log_softmax_nll": (NLL_OF_LOG_SOFTMAX, Status.OK, ""),
            "sum_not_mean": (SUM_INSTEAD_OF_MEAN, Status.WRONG_OUTPUT, "elements outside"),
        },
    ),
    "conv_relu_bias": (CONV_RELU_BIAS, {"itself": (as_candidate(CONV_RELU_BIAS), Status.OK, "")}),
    "mlp": (MLP, {"itself": (as_candidate(MLP), Status.OK, "")}),
    "attention_block": (ATTENTION_BLOCK, {"itself": (as_candidate(ATTENTION_BLOCK), Status.OK, "")}),
}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], EvalResult]:
    folder = tmp_path_factory.mktemp("kernelbench")
    found = {}
    for name, (problem_source, candidates) in CASES.items():
        path = folder / f"{name}.py"
        path.write_text(problem_source)
        evaluator = Evaluator(
            load_problem(path), "cpu", LIMITS, secret_seed=5, workroot=folder / f"work-{name}"
        )
        try:
            for label, (source, _, _) in candidates.items():
                found[(name, label)] = evaluator.evaluate(make_candidate(source))
        finally:
            evaluator.close()
    return found


@pytest.mark.parametrize(
    "key", [(name, label) for name, (_, cands) in CASES.items() for label in cands], ids="-".join
)
def test_each_file_judges_as_kernelbench_wrote_it(
    key: tuple[str, str], verdicts: dict[tuple[str, str], EvalResult]
) -> None:
    _, expected, reason = CASES[key[0]][1][key[1]]
    result = verdicts[key]
    assert result.status is expected, f"{key}: {result.status.value}: {result.reason}"
    assert reason in result.reason
    if expected is Status.OK:
        assert result.shapes and result.shapes[0].shape == "default"
        assert result.speedup is not None  # PyTorch on the CPU: really timed


def test_integer_and_scalar_outputs_compare_exactly_and_by_tolerance(
    verdicts: dict[tuple[str, str], EvalResult],
) -> None:
    assert verdicts[("argmax", "max_indices")].max_error == 0.0  # integers: equal, or wrong
    loss_error = verdicts[("cross_entropy_loss", "log_softmax_nll")].max_error
    assert loss_error is not None and loss_error < 1e-4  # a scalar, reordered: within tolerance


def test_a_gpu_sized_file_is_scaled_to_the_cpu_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "big_conv2d.py"
    path.write_text(BIG_CONV2D)
    overrides = cpu_overrides(path)
    assert overrides and set(overrides) <= {"batch_size", "height", "width"}
    problem = load_problem(path, overrides)
    evaluator = Evaluator(problem, "cpu", LIMITS, secret_seed=3, workroot=tmp_path / "work")
    try:
        result = evaluator.evaluate(make_candidate(as_candidate(BIG_CONV2D)))
    finally:
        evaluator.close()
    assert result.status is Status.OK, result.reason
    assert result.scaled_down
