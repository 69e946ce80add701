"""Mean cross-entropy loss of logits [rows, vocab] against int64 class targets [rows].

``loss = mean_i(logsumexp(logits[i]) - logits[i, targets[i]])``, the language-model
training loss, returned as a 0-d fp32 tensor. This is the reduction problem: the output
is a single number, so a kernel must reduce across both dimensions.

The reference is the unfused log-softmax composition a user would first write: row max,
shift, exp, sum, log, subtract, gather, mean. It materialises several [rows, vocab]
temporaries, where a fused kernel reads the logits once and writes one float per row.
"""

import torch

SHAPES = [
    {"name": "small", "rows": 64, "vocab": 1000, "devices": ["cpu", "cuda"]},
    {"name": "wide", "rows": 48, "vocab": 5000, "devices": ["cpu", "cuda"]},
    {"name": "llama2_vocab", "rows": 8192, "vocab": 32000, "devices": ["cuda"]},
    {"name": "llama3_vocab", "rows": 4096, "vocab": 128256, "devices": ["cuda"]},
]


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        row_max = logits.max(dim=-1, keepdim=True).values
        shifted = logits - row_max
        log_sum_exp = torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))
        log_probs = shifted - log_sum_exp
        picked = log_probs.gather(dim=-1, index=targets.unsqueeze(-1)).squeeze(-1)
        return -picked.mean()


def get_inputs(rows: int = 64, vocab: int = 1000) -> list[torch.Tensor]:
    logits = torch.randn(rows, vocab, dtype=torch.float32)
    targets = torch.randint(0, vocab, (rows,), dtype=torch.int64)
    return [logits, targets]


def get_init_inputs() -> list:
    return []


def flops(sizes: dict) -> float:
    # max, subtract, exp, sum, log-subtract: about five operations per logit.
    return 5.0 * sizes.get("rows", 64) * sizes.get("vocab", 1000)


def bytes_moved(sizes: dict) -> float:
    # The minimum: read the fp32 logits once and the int64 targets once.
    rows, vocab = sizes.get("rows", 64), sizes.get("vocab", 1000)
    return 4.0 * rows * vocab + 8.0 * rows
