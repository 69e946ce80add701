"""Dense matrix multiply, ``C = A @ B``, with A [m, k] and B [k, n].

The reference is ``torch.matmul``, which is already the vendor BLAS path (MKL or oneDNN
on the CPU, cuBLAS on the GPU). That is the honest baseline: on the CPU there is little
to win, and the GPU shapes are where a tuned Triton kernel can match or beat it.

``dtype`` is a size key: the CPU shapes are fp32, the GPU shapes fp16 or bf16. B is
scaled by 1/sqrt(k), as weights usually are, so outputs stay O(1) for every k and fp16
cannot overflow even with heavy-tailed inputs.
"""

import math

import torch

SHAPES = [
    {"name": "small", "m": 64, "k": 128, "n": 96, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "ragged", "m": 120, "k": 200, "n": 136, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "square_4096", "m": 4096, "k": 4096, "n": 4096, "dtype": "float16", "devices": ["cuda"]},
    {"name": "llama3_8b_mlp", "m": 8192, "k": 4096, "n": 14336, "dtype": "bfloat16", "devices": ["cuda"]},
    {"name": "long_k", "m": 1024, "k": 32768, "n": 1024, "dtype": "float16", "devices": ["cuda"]},
]

# Triton's tl.dot, and cuBLAS with TF32 enabled, round fp32 operands to TF32 (10 mantissa
# bits); 1e-2 admits that on ordinary inputs, though not on heavy-tailed ones, where an
# output that nearly cancels keeps the TF32 error of its largest terms (the built-in
# Triton families use tf32x3 for fp32). fp16 and bf16 accumulate in fp32 and round once.
TOLERANCES = {
    "float32": {"atol": 1e-2, "rtol": 1e-2},
    "float16": {"atol": 1e-2, "rtol": 1e-2},
    "bfloat16": {"atol": 2e-2, "rtol": 2e-2},
}

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


def get_inputs(m: int = 64, k: int = 128, n: int = 96, dtype: str = "float32") -> list[torch.Tensor]:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    a = torch.randn(m, k, dtype=torch.float32)
    b = torch.randn(k, n, dtype=torch.float32) / math.sqrt(k)
    return [a.to(DTYPES[dtype]), b.to(DTYPES[dtype])]


def get_init_inputs() -> list:
    return []


def flops(sizes: dict) -> float:
    # One multiply and one add per (i, j, p).
    return 2.0 * sizes.get("m", 64) * sizes.get("k", 128) * sizes.get("n", 96)


def bytes_moved(sizes: dict) -> float:
    # The minimum: read A and B once and write C once.
    m, k, n = sizes.get("m", 64), sizes.get("k", 128), sizes.get("n", 96)
    itemsize = DTYPES[sizes.get("dtype", "float32")].itemsize
    return float(itemsize * (m * k + k * n + m * n))
