"""SwiGLU activation, ``y = silu(gate) * up`` with ``silu(g) = g * sigmoid(g)``.

This is the gated activation of the Llama, Mistral and Qwen MLPs: the input is projected
twice, to ``gate`` and ``up`` (both [tokens, ffn]), and ``silu(gate) * up`` feeds the down
projection. It runs once per layer per token, over the widest activation in the model.

The reference computes sigmoid, multiply and multiply as three separate passes with two
full-size temporaries: it reads 5 and writes 3 full-size tensors, 8 passes over memory
where a fused kernel reads gate and up once and writes y once (3 passes).

``dtype`` is a size key: the CPU shapes are fp32, the GPU shapes fp16 or bf16, as the
activations of those models are.
"""

import torch

SHAPES = [
    {"name": "small", "tokens": 64, "ffn": 512, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "ragged", "tokens": 77, "ffn": 1000, "dtype": "float32", "devices": ["cpu", "cuda"]},
    {"name": "llama3_8b_mlp", "tokens": 8192, "ffn": 14336, "dtype": "bfloat16", "devices": ["cuda"]},
    {"name": "llama2_7b_mlp", "tokens": 16384, "ffn": 11008, "dtype": "float16", "devices": ["cuda"]},
]

# The reference rounds to the input dtype after each of its three passes; a fused kernel
# computes in fp32 and rounds once, so half-precision outputs differ by a few ulps.
TOLERANCES = {
    "float32": {"atol": 1e-4, "rtol": 1e-4},
    "float16": {"atol": 1e-2, "rtol": 1e-2},
    "bfloat16": {"atol": 2e-2, "rtol": 2e-2},
}

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        sig = torch.sigmoid(gate)
        silu = gate * sig
        return silu * up


def get_inputs(tokens: int = 64, ffn: int = 512, dtype: str = "float32") -> list[torch.Tensor]:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    gate = torch.randn(tokens, ffn, dtype=torch.float32)
    up = torch.randn(tokens, ffn, dtype=torch.float32)
    return [gate.to(DTYPES[dtype]), up.to(DTYPES[dtype])]


def get_init_inputs() -> list:
    return []


def flops(sizes: dict) -> float:
    # negate, exp, add, divide (sigmoid), then two multiplies: about six operations per element.
    return 6.0 * sizes.get("tokens", 64) * sizes.get("ffn", 512)


def bytes_moved(sizes: dict) -> float:
    # The minimum: read gate and up once and write y once, in the input dtype.
    itemsize = DTYPES[sizes.get("dtype", "float32")].itemsize
    return 3.0 * itemsize * sizes.get("tokens", 64) * sizes.get("ffn", 512)
