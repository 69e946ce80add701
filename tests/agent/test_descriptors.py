"""MAP-Elites descriptors, read from the built-in variant families and a few handwritten kernels."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.descriptors import (
    BlockClass,
    DescriptorInputs,
    LaunchBin,
    MemoryLevel,
    SizeClass,
    describe,
)
from evaluator.types import (
    EvalResult,
    KernelTime,
    NcuReport,
    Profile,
    ProfileReport,
    RooflinePosition,
    Stage,
    Status,
)
from kernels.candidate import Language
from kernels.problem import BUILTIN_DIR

# What each real family is, by the documented bins: (memory level, block class, launches, dots).
# Matmuls stage K panels for tl.dot; rowwise kernels hold whole rows in registers; tiled and online
# kernels stream rows through loops; split-K and cross-entropy launch a second, reducing kernel.
FAMILIES = {
    "bias_gelu/triton_flat": ("global_only", "medium", "1", False),
    "bias_gelu/triton_tiled2d": ("global_only", "large", "1", False),
    "cross_entropy/triton_online": ("global_only", "medium", "2", False),
    "layernorm/triton_rowwise": ("registers", "adaptive", "1", False),
    "layernorm/triton_tiled": ("global_only", "medium", "1", False),
    "matmul/triton_splitk": ("shared_memory", "large", "2", True),
    "matmul/triton_tiled": ("shared_memory", "large", "1", True),
    "rmsnorm/triton_rowwise": ("registers", "adaptive", "1", False),
    "rmsnorm/triton_tiled": ("global_only", "medium", "1", False),
    "softmax/triton_online": ("global_only", "medium", "1", False),
    "softmax/triton_rowwise": ("registers", "adaptive", "1", False),
}
TORCH_FAMILIES = sorted(BUILTIN_DIR.glob("*/torch_*.py"))


def read(name: str) -> str:
    return (BUILTIN_DIR / f"{name}.py").read_text(encoding="utf-8")


def kernel_module(kernel_body: str, forward_body: str, *, header: str = "") -> str:
    """A Triton candidate with one kernel ``k`` and a ModelNew whose forward runs ``forward_body``."""
    return (
        "import torch\nimport triton\nimport triton.language as tl\n"
        f"{header}\n\n@triton.jit\ndef k(x_ptr, y_ptr, n, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,"
        f" BLOCK_K: tl.constexpr):\n{kernel_body}\n\n\nclass ModelNew(torch.nn.Module):\n"
        f"    def forward(self, x):\n        y = torch.empty_like(x)\n{forward_body}\n        return y\n"
    )


LAUNCH = "        k[(1,)](x, y, x.numel(), BLOCK_M=64, BLOCK_N=64, BLOCK_K=32)"
ROW_LOAD = "    offs = tl.arange(0, BLOCK_N)\n    x = tl.load(x_ptr + offs)\n"


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_real_triton_families(name: str) -> None:
    level, block, launches, dots = FAMILIES[name]
    descriptor = describe(read(name))
    assert descriptor.language is Language.TRITON
    assert (descriptor.memory_level.value, descriptor.block_class.value) == (level, block)
    assert (descriptor.launches.value, descriptor.tensor_core_dots) == (launches, dots)
    assert descriptor.launch_count == int(launches)
    assert descriptor.cell() == (
        "triton",
        level,
        block,
        launches,
        dots,
        descriptor.source_size.value,
    )


def test_real_tile_sizes_follow_the_config_space() -> None:
    # 128 x 256 output tile at the top of matmul's space; 8192-wide rows at the top of softmax's.
    assert describe(read("matmul/triton_tiled")).block_elements == 128 * 256
    assert describe(read("softmax/triton_online")).block_elements == 8192
    assert describe(read("bias_gelu/triton_tiled2d")).block_elements == 16 * 1024
    assert describe(read("softmax/triton_rowwise")).block_elements is None  # next_power_of_2(n_cols)


GEMM_PROBLEMS = {"matmul", "matmul_bias_gelu", "kb2_gemm_relu_scale", "kb2_matmul_sigmoid_sum"}


@pytest.mark.parametrize("path", TORCH_FAMILIES, ids=lambda p: p.parent.name)
def test_real_pytorch_families(path: Path) -> None:
    descriptor = describe(path.read_text(encoding="utf-8"))
    assert descriptor.language is Language.PYTORCH
    assert descriptor.memory_level is MemoryLevel.LIBRARY
    assert descriptor.block_class is BlockClass.NONE and descriptor.block_elements is None
    assert descriptor.launches is LaunchBin.UNKNOWN and descriptor.launch_count is None
    assert descriptor.tensor_core_dots is (path.parent.name in GEMM_PROBLEMS)  # torch.mm, addmm...


def test_families_of_one_problem_land_in_different_cells() -> None:
    cells = {
        describe(read(f"matmul/{name}")).cell() for name in ("triton_tiled", "triton_splitk", "torch_blas")
    }
    assert len(cells) == 3
    cells = {
        describe(read(f"softmax/{name}")).cell()
        for name in ("triton_online", "triton_rowwise", "torch_fused")
    }
    assert len(cells) == 3


def test_two_d_loads_in_a_k_loop_are_shared_memory_tiling() -> None:
    body = (
        "    rows = tl.arange(0, BLOCK_M)\n    cols = tl.arange(0, BLOCK_K)\n"
        "    ptrs = x_ptr + rows[:, None] * n + cols[None, :]\n"
        "    acc = tl.zeros((BLOCK_M, BLOCK_K), tl.float32)\n"
        "    for kk in range(0, n, BLOCK_K):\n        acc += tl.load(ptrs)\n        ptrs += BLOCK_K\n"
        "    tl.store(y_ptr + rows[:, None] * n + cols[None, :], acc)"
    )
    descriptor = describe(kernel_module(body, LAUNCH))
    assert descriptor.memory_level is MemoryLevel.SHARED_MEMORY and not descriptor.tensor_core_dots


def test_block_pointers_in_a_loop_are_shared_memory_tiling() -> None:
    body = (
        "    p = tl.make_block_ptr(x_ptr, (n, n), (n, 1), (0, 0), (BLOCK_M, BLOCK_K), (1, 0))\n"
        "    acc = tl.zeros((BLOCK_M, BLOCK_K), tl.float32)\n"
        "    for kk in range(0, n, BLOCK_K):\n"
        "        acc += tl.load(p)\n        p = tl.advance(p, (0, BLOCK_K))\n"
        "    tl.store(y_ptr, tl.sum(acc))"
    )
    assert describe(kernel_module(body, LAUNCH)).memory_level is MemoryLevel.SHARED_MEMORY


def test_reductions_without_a_loop_are_registers_and_elementwise_is_global() -> None:
    reduce = describe(kernel_module(ROW_LOAD + "    tl.store(y_ptr, tl.sum(x, axis=0))", LAUNCH))
    assert reduce.memory_level is MemoryLevel.REGISTERS
    streaming = describe(kernel_module(ROW_LOAD + "    tl.store(y_ptr + offs, x * 2)", LAUNCH))
    assert streaming.memory_level is MemoryLevel.GLOBAL_ONLY


def test_launch_counting_follows_branches_and_loops() -> None:
    body = ROW_LOAD + "    tl.store(y_ptr + offs, x)"
    branches = f"        if x.numel() > 4:\n    {LAUNCH}\n        else:\n    {LAUNCH}\n    {LAUNCH}"
    assert describe(kernel_module(body, branches)).launch_count == 2
    looped = describe(kernel_module(body, f"        for _ in range(3):\n    {LAUNCH}"))
    assert looped.launches is LaunchBin.MANY and looped.launch_count is None
    none = describe(kernel_module(body, "        y.copy_(x)"))
    assert none.launches is LaunchBin.ZERO and none.block_class is BlockClass.NONE


def test_block_sizes_resolve_through_literals_constants_and_the_config_space() -> None:
    body = ROW_LOAD + "    tl.store(y_ptr + offs, x)"
    assert describe(kernel_module(body, LAUNCH)).block_elements == 64 * 64  # BLOCK_K is the K step
    small = describe(kernel_module(body, LAUNCH.replace("BLOCK_N=64", "BLOCK_N=TILE"), header="TILE = 8\n"))
    assert (small.block_elements, small.block_class) == (64 * 8, BlockClass.SMALL)
    configured = kernel_module(
        body,
        '        bm = CONFIG["BLOCK_M"]\n' + LAUNCH.replace("BLOCK_M=64", "BLOCK_M=bm"),
        header='CONFIG_SPACE = {"BLOCK_M": [16, 256], "num_warps": [4]}\n',
    )
    assert describe(configured).block_elements == 256 * 64
    adaptive = LAUNCH.replace("BLOCK_N=64", "BLOCK_N=triton.next_power_of_2(x.shape[1])")
    assert describe(kernel_module(body, adaptive)).block_class is BlockClass.ADAPTIVE


def test_an_aliased_triton_language_is_followed() -> None:
    source = read("matmul/triton_tiled").replace(
        "import triton.language as tl", "from triton import language as tl"
    )
    assert describe(source).cell() == describe(read("matmul/triton_tiled")).cell()


def test_profiled_launches_win_over_the_source() -> None:
    kernels = [KernelTime("k_main", 30, 50.0, 0.8), KernelTime("k_reduce", 10, 12.0, 0.2)]
    report = ProfileReport("ncu", kernels, {}, RooflinePosition(), "two kernels", profiled_calls=10)
    profile = Profile("two kernels", ncu=NcuReport("large", report))
    result = EvalResult(Status.OK, Stage.DONE, "ok", profile=profile)
    inputs = DescriptorInputs.from_result(result)
    assert inputs.launches_per_call == 4.0
    profiled = describe(read("matmul/triton_tiled"), inputs)
    assert profiled.launches is LaunchBin.MANY and profiled.launch_count == 4
    torch_profiled = describe(read("matmul/torch_blas"), DescriptorInputs(launches_per_call=1.5))
    assert torch_profiled.launches is LaunchBin.TWO and torch_profiled.launch_count is None
    per_shape = Profile(
        "cpu",
        shapes={
            "small": report,
            "large": ProfileReport("torch_profiler", kernels[:1], {}, RooflinePosition(), ""),
        },
    )
    assert DescriptorInputs.from_profile(per_shape).launches_per_call == 30.0
    assert DescriptorInputs.from_profile(None) == DescriptorInputs()
    assert (
        DescriptorInputs.from_result(
            EvalResult(Status.WRONG_OUTPUT, Stage.CORRECTNESS, "bad")
        ).launches_per_call
        is None
    )


def test_matmul_operator_counts_as_a_dense_product() -> None:
    source = "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    source += "    def forward(self, a, b):\n        return a @ b\n"
    assert describe(source).tensor_core_dots
    assert not describe(source.replace("a @ b", "a * b")).tensor_core_dots


def test_source_size_counts_statements_not_lines() -> None:
    small = (
        "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x\n"
    )
    assert describe(small).source_size is SizeClass.SMALL
    assert describe(small.replace("\n", "\n\n\n")).source_size is SizeClass.SMALL
    grown = small.replace("        return x\n", "        x = x + 1\n" * 70 + "        return x\n")
    assert describe(grown).source_size is SizeClass.LARGE


def test_unparsable_source_gets_unknown_bins(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    runs = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n" + read("matmul/triton_tiled")
    assert describe(runs).memory_level is MemoryLevel.SHARED_MEMORY and not marker.exists()
    broken = describe(read("matmul/triton_tiled").replace("def forward(self, a", "def forward(self a"))
    assert broken.memory_level is MemoryLevel.UNKNOWN and broken.launches is LaunchBin.UNKNOWN
    assert broken.language is Language.PYTORCH  # no parse, so no @triton.jit could be seen
