"""The L2 norm of each row of a 2-D tensor, written as a user would first write it.

``y = sqrt(sum(x * x, dim=-1) + eps)``, one value per row, returned with shape [rows].
This is the per-row reduction behind gradient clipping by norm, weight normalisation and
the statistics of RMSNorm-style layers; eps keeps the root (and its gradient) finite for
an all-zero row.

``dtype`` is a size key: the fp32 shapes and one bf16 shape. The reference computes in
the input dtype, as user code would; PyTorch's sum accumulates in fp32 either way.

The reference squares into a full-size temporary (one read and one write of x's size),
sums it (another full read), then adds eps and takes the root in two more small passes.
A fused kernel reads x once and writes one value per row.
"""

import torch

SHAPES = [
    {"name": "small", "rows": 64, "cols": 512, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "ragged", "rows": 99, "cols": 1000, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "short_rows", "rows": 300, "cols": 48, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "gpt3_6b_mlp", "rows": 16384, "cols": 16384, "dtype": "float32", "devices": ["cuda"]},
    {"name": "llama_7b_hidden", "rows": 65536, "cols": 4096, "dtype": "float32", "devices": ["cuda"]},
    {"name": "bert_base_bf16", "rows": 131072, "cols": 768, "dtype": "bfloat16", "devices": ["cuda"]},
]

# The bf16 reference rounds every square and the final root to bf16, where a fused kernel
# squares and sums in fp32 and rounds once; the rounding of the squares averages out over
# a row, so the difference stays within an ulp or two of the output.
TOLERANCES = {
    "float32": {"atol": 1e-4, "rtol": 1e-4},
    "bfloat16": {"atol": 2e-2, "rtol": 2e-2},
}

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class Model(torch.nn.Module):
    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        squared = x * x
        total = squared.sum(dim=-1)
        return torch.sqrt(total + self.eps)


def get_inputs(rows: int = 64, cols: int = 512, dtype: str = "float32") -> list[torch.Tensor]:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    return [torch.randn(rows, cols, dtype=torch.float32).to(DTYPES[dtype])]


def get_init_inputs() -> list:
    return [1e-6]


def flops(sizes: dict) -> float:
    # A multiply and an add per element, then an add and a root per row.
    rows, cols = sizes.get("rows", 64), sizes.get("cols", 512)
    return 2.0 * rows * cols + 2.0 * rows


def bytes_moved(sizes: dict) -> float:
    # The minimum: read x once and write one value per row, in the shape's dtype.
    rows, cols = sizes.get("rows", 64), sizes.get("cols", 512)
    itemsize = DTYPES[sizes.get("dtype", "float32")].itemsize
    return float(itemsize * (rows * cols + rows))
