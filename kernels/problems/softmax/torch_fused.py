"""Softmax through PyTorch's fused kernel, optionally in row chunks.

``torch.softmax`` reads each row once and writes it once, where the unfused reference
makes five passes. Chunking rows keeps each working set inside the cache on large inputs.
"""

import torch

CONFIG_SPACE = {
    "chunk_rows": [0, 16, 64],  # 0: whole tensor at once; otherwise rows per chunk
    "out_buffer": [False, True],  # write into a preallocated output instead of a fresh tensor
}


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        chunk = CONFIG["chunk_rows"]  # noqa: F821 - injected by the evaluator
        if chunk == 0 or x.shape[0] <= chunk:
            return torch.softmax(x, dim=-1)
        if CONFIG["out_buffer"]:  # noqa: F821
            out = torch.empty_like(x)
            for start in range(0, x.shape[0], chunk):
                torch.softmax(x[start : start + chunk], dim=-1, out=out[start : start + chunk])
            return out
        return torch.cat([torch.softmax(part, dim=-1) for part in x.split(chunk)])
