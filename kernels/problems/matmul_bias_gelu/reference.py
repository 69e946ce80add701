"""Matrix multiply with a bias-add and tanh-GELU epilogue: ``y = gelu(a @ b + bias)``.

a is [m, k] (tokens x model width), b is [k, n] (the up-projection weight, stored
input-major) and bias is [n]. GELU is the tanh approximation,
``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))``, PyTorch's
``gelu(approximate="tanh")``: the first projection of a GPT-2 / GPT-J style MLP block,
where ``nn.Linear`` (with bias) is followed by ``gelu_new``.

The reference writes it as a user first would: ``torch.matmul`` (the vendor BLAS call)
writes the m x n product, ``+ bias`` reads it and writes a second m x n temporary, and
``F.gelu`` reads that and writes the output. That is two extra full passes over an output
that is usually far bigger than a and b together (8192 x 14336 bf16 is 235 MB), and in
fp16/bf16 the product and the biased sum are each rounded before the GELU sees them. A
fused kernel applies bias and GELU to the fp32 accumulator and stores the tile once.

``dtype`` is a size key, as in ``matmul``: the CPU shapes are fp32, the GPU shapes fp16 or
bf16. b is scaled by 1/sqrt(k), as weights usually are, so a @ b stays O(1) for every k.
"""

import math

import torch
import torch.nn.functional as F

SHAPES = [
    {"name": "small", "m": 64, "k": 128, "n": 256, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "ragged", "m": 77, "k": 150, "n": 190, "dtype": "float32", "devices": ["cpu", "cuda"]},
    # GPT-J-6B MLP up-projection (d_model 4096, d_ff 16384, biased, gelu_new), 4096 tokens.
    {"name": "gptj_6b_mlp", "m": 4096, "k": 4096, "n": 16384, "dtype": "float16", "devices": ["cuda"]},
    # Llama-3-8B MLP widths (d_model 4096, d_ff 14336), 8192 tokens, in bf16. Llama itself uses
    # SwiGLU without bias; this is the same matmul with the GPT-style epilogue.
    {"name": "llama3_8b_mlp", "m": 8192, "k": 4096, "n": 14336, "dtype": "bfloat16", "devices": ["cuda"]},
    # GPT-2 XL MLP up-projection (d_model 1600, d_ff 6400), 8192 tokens: K not a power of two.
    {"name": "gpt2_xl_mlp", "m": 8192, "k": 1600, "n": 6400, "dtype": "float16", "devices": ["cuda"]},
]

# As in ``matmul``: Triton's tl.dot and cuBLAS with TF32 round fp32 operands to TF32, so the
# fp32 tolerance admits that (the built-in Triton family uses tf32x3 for fp32). fp16 and bf16
# accumulate in fp32; the reference then rounds three times (product, biased sum, GELU) where
# a fused epilogue rounds once, a few units in the last place that these tolerances cover.
TOLERANCES = {
    "float32": {"atol": 1e-2, "rtol": 1e-2},
    "float16": {"atol": 1e-2, "rtol": 1e-2},
    "bfloat16": {"atol": 2e-2, "rtol": 2e-2},
}

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        y = torch.matmul(a, b)
        y = y + bias
        return F.gelu(y, approximate="tanh")


def get_inputs(m: int = 64, k: int = 128, n: int = 256, dtype: str = "float32") -> list[torch.Tensor]:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    a = torch.randn(m, k, dtype=torch.float32)
    b = torch.randn(k, n, dtype=torch.float32) / math.sqrt(k)
    bias = torch.randn(n, dtype=torch.float32)
    return [a.to(DTYPES[dtype]), b.to(DTYPES[dtype]), bias.to(DTYPES[dtype])]


def get_init_inputs() -> list:
    return []


def flops(sizes: dict) -> float:
    # 2 * m * n * k for the product, plus about ten operations per output for bias and GELU.
    m, k, n = sizes.get("m", 64), sizes.get("k", 128), sizes.get("n", 256)
    return 2.0 * m * n * k + 10.0 * m * n


def bytes_moved(sizes: dict) -> float:
    # The minimum: read a, b and the bias once and write y once, in the input dtype.
    m, k, n = sizes.get("m", 64), sizes.get("k", 128), sizes.get("n", 256)
    itemsize = DTYPES[sizes.get("dtype", "float32")].itemsize
    return float(itemsize * (m * k + k * n + n + m * n))
