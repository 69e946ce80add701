"""Residual add fused into LayerNorm, written as a user would first write it.

``y = layer_norm(x + residual) * weight + bias`` over the last dimension, with the biased
variance and eps = 1e-5, as in ``torch.nn.LayerNorm``. This is the entry of every
pre-norm transformer block (GPT-2/3, OPT, Falcon): the sub-layer output ``x`` is added to
the residual stream and the sum is normalised before the next attention or MLP. x and
residual are [tokens, hidden]; weight and bias are [hidden] forward inputs drawn at
random, so a kernel that ignores them, or assumes ones and zeros, fails.

``dtype`` is a size key: the CPU shapes are fp32, the GPU shapes fp32, fp16 or bf16. As
in Hugging Face-style models, the sum is the residual stream and is kept in the input
dtype (rounded once), and the normalisation is computed in fp32 and cast back.

The reference writes the sum to a full-size temporary, upcasts it, then makes separate
passes for the mean, the centred values, their square, the variance, the normalisation,
the scale, the shift and the downcast: ten passes over memory and eight full-size
temporaries (eight and six in fp32, where the casts are no-ops). A fused kernel reads x
and residual once, keeps the sum on chip, and writes y once.
"""

import torch

SHAPES = [
    {"name": "small", "tokens": 64, "hidden": 512, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "ragged", "tokens": 96, "hidden": 1000, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "gpt2_xl", "tokens": 16384, "hidden": 1600, "dtype": "float32", "devices": ["cuda"]},
    {"name": "llama_7b_fp16", "tokens": 8192, "hidden": 4096, "dtype": "float16", "devices": ["cuda"]},
    {"name": "llama_70b_bf16", "tokens": 16384, "hidden": 8192, "dtype": "bfloat16", "devices": ["cuda"]},
]

# The reference rounds the sum and the output to fp16/bf16 and computes the rest in fp32, so a
# fused kernel that does the same differs by about half an ulp of the output; these leave
# room for a kernel that keeps the sum in fp32 or rounds its intermediates (a CPU simulation
# of llama_70b_bf16, heavy-tailed trial included, used at most about 0.7 of the bf16 tolerance).
TOLERANCES = {
    "float32": {"atol": 1e-4, "rtol": 1e-4},
    "float16": {"atol": 1e-2, "rtol": 1e-2},
    "bfloat16": {"atol": 2e-2, "rtol": 2e-2},
}

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class Model(torch.nn.Module):
    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(
        self, x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> torch.Tensor:
        hidden = (x + residual).float()
        mean = hidden.mean(dim=-1, keepdim=True)
        centered = hidden - mean
        var = (centered * centered).mean(dim=-1, keepdim=True)
        normalized = centered / torch.sqrt(var + self.eps)
        return (normalized * weight.float() + bias.float()).to(x.dtype)


def get_inputs(tokens: int = 64, hidden: int = 512, dtype: str = "float32") -> list[torch.Tensor]:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    x = torch.randn(tokens, hidden, dtype=torch.float32)
    residual = torch.randn(tokens, hidden, dtype=torch.float32)
    weight = torch.randn(hidden, dtype=torch.float32)
    bias = torch.randn(hidden, dtype=torch.float32)
    return [t.to(DTYPES[dtype]) for t in (x, residual, weight, bias)]


def get_init_inputs() -> list:
    return [1e-5]


def flops(sizes: dict) -> float:
    # add, sum, subtract, square, sum, scale, multiply, add: about nine operations per element.
    return 9.0 * sizes.get("tokens", 64) * sizes.get("hidden", 512)


def bytes_moved(sizes: dict) -> float:
    # The minimum: read x and residual and write y once each, plus one read of weight and
    # bias, all in the shape's dtype. The sum never needs to leave the chip.
    tokens, hidden = sizes.get("tokens", 64), sizes.get("hidden", 512)
    itemsize = DTYPES[sizes.get("dtype", "float32")].itemsize
    return float(itemsize * (3 * tokens * hidden + 2 * hidden))
