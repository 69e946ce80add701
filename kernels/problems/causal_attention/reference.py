"""Causal scaled dot-product self-attention, ``softmax(q @ k^T * scale + mask) @ v``.

q, k and v are [batch, heads, seq, head_dim] and ``scale = 1 / sqrt(head_dim)``; the mask
is -inf above the diagonal, so query i attends to keys 0..i. This is the attention core of
every GPT-style decoder (GPT-2, GPT-J, Llama) during prefill, after the q/k/v projections
and rotary embedding, before the output projection.

The reference is written as model code first writes it: it materializes the full
[seq, seq] score matrix of every head, masks it with ``masked_fill``, softmaxes it and
multiplies by v. Scores, masked scores and probabilities are each a
batch * heads * seq^2 temporary (for 4 x 32 heads at seq 2048, 2 GiB apiece in fp32),
written and read back by separate passes, and half of all that work is on masked
entries. A flash-attention kernel keeps one block of scores in registers, never writes
them, and skips the blocks above the diagonal: it reads q, k, v once per query block and
writes the output once.

Scores and softmax are computed in fp32, as Llama's reference code does for the softmax:
a score matrix rounded to fp16 or bf16 misses the exact result by far more than the
tolerance when the inputs are heavy-tailed (scores of a few tens, where one bf16 ulp
shifts a probability by 10-25%), while flash kernels keep scores in fp32 anyway.
``dtype`` is a size key: the CPU shapes are fp32, the GPU shapes fp16 or bf16.
"""

import math

import torch

SHAPES = [
    {
        "name": "small",
        "batch": 1,
        "heads": 2,
        "seq": 128,
        "head_dim": 32,
        "dtype": "float32",
        "devices": ["cpu", "cuda"],
    },
    {
        "name": "ragged",
        "batch": 2,
        "heads": 3,
        "seq": 50,
        "head_dim": 32,
        "dtype": "float32",
        "devices": ["cpu", "cuda"],
    },
    # Non-power-of-two head_dim (as in Phi-2's 80) and a seq that leaves a partial last block.
    {
        "name": "ragged_head_dim",
        "batch": 1,
        "heads": 1,
        "seq": 150,
        "head_dim": 40,
        "dtype": "float32",
        "devices": ["cpu", "cuda"],
    },
    # Llama-2-7B attention (32 heads of 128) over a 2048-token prefill, batch 4.
    {
        "name": "llama2_7b_2k",
        "batch": 4,
        "heads": 32,
        "seq": 2048,
        "head_dim": 128,
        "dtype": "bfloat16",
        "devices": ["cuda"],
    },
    # GPT-2-medium heads (16 heads of 64) over an 8192-token context, batch 1.
    {
        "name": "gpt2_medium_8k",
        "batch": 1,
        "heads": 16,
        "seq": 8192,
        "head_dim": 64,
        "dtype": "float16",
        "devices": ["cuda"],
    },
]

# fp32: on heavy-tailed inputs scores reach 1e3..1e4, where one fp32 ulp of a score moves its
# probability by ~1e-4 relative, and a blocked (online) softmax sums in another order: 1e-3
# admits that. fp16/bf16: the output is rounded once from an fp32 result; flash kernels also
# round the probabilities to the input dtype before the P @ V product (measured worst error
# a third of the bf16 bound on heavy-tailed inputs at the GPU shapes).
TOLERANCES = {
    "float32": {"atol": 1e-3, "rtol": 1e-3},
    "float16": {"atol": 1e-2, "rtol": 1e-2},
    "bfloat16": {"atol": 2e-2, "rtol": 2e-2},
}

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        seq, head_dim = q.shape[-2], q.shape[-1]
        scale = 1.0 / math.sqrt(head_dim)
        scores = torch.matmul(q.float(), k.float().transpose(-2, -1)) * scale
        above_diagonal = torch.ones(seq, seq, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(above_diagonal, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        return torch.matmul(probs, v.float()).to(v.dtype)


def get_inputs(
    batch: int = 1, heads: int = 2, seq: int = 128, head_dim: int = 32, dtype: str = "float32"
) -> list[torch.Tensor]:
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    shape = (batch, heads, seq, head_dim)
    return [torch.randn(shape, dtype=torch.float32).to(DTYPES[dtype]) for _ in range(3)]


def get_init_inputs() -> list:
    return []


def flops(sizes: dict) -> float:
    # Two matmuls (q @ k^T and p @ v) of 2 * head_dim flops per (query, key) pair, counted over
    # the seq * (seq + 1) / 2 unmasked pairs only: the work a causal kernel has to do.
    b, h = sizes.get("batch", 1), sizes.get("heads", 2)
    s, d = sizes.get("seq", 128), sizes.get("head_dim", 32)
    return 4.0 * b * h * d * s * (s + 1) / 2


def bytes_moved(sizes: dict) -> float:
    # The minimum: read q, k and v once and write the output once, in the input dtype; the
    # score matrix never leaves the chip.
    b, h = sizes.get("batch", 1), sizes.get("heads", 2)
    s, d = sizes.get("seq", 128), sizes.get("head_dim", 32)
    itemsize = DTYPES[sizes.get("dtype", "float32")].itemsize
    return float(4 * b * h * s * d * itemsize)
