"""SwiGLU through PyTorch's fused SiLU kernel, ``F.silu(gate) * up``, in three forms.

``F.silu`` is one fused pass (read gate, write silu) where the reference's sigmoid and
multiply are two, so every form makes two passes, 5 full-size tensor transfers against
the reference's 8:

* ``functional``: ``F.silu(gate) * up``, a temporary for silu and a fresh output;
* ``out``: ``torch.mul(F.silu(gate), up, out=y)`` into a preallocated y, one silu
  temporary per chunk;
* ``inplace``: silu is written straight into y (``aten.silu.out``) and ``y.mul_(up)``
  finishes it, so no temporary is allocated at all.

``chunk_rows`` > 0 processes that many rows at a time, so each chunk's silu is still in
L2 when the multiply reads it back (the ``functional`` form ignores it).
"""

import torch
import torch.nn.functional as F

CONFIG_SPACE = {
    "impl": ["functional", "out", "inplace"],
    "chunk_rows": [0, 64, 256, 1024],  # 0: whole tensor at once; otherwise rows per chunk
}


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        impl = CONFIG["impl"]  # noqa: F821 - injected by the evaluator
        if impl == "functional":
            return F.silu(gate) * up
        gate, up = gate.contiguous(), up.contiguous()
        y = torch.empty_like(gate)
        chunk = CONFIG["chunk_rows"]  # noqa: F821
        step = chunk if chunk else gate.shape[0]
        for start in range(0, gate.shape[0], step):
            # Row slices of contiguous tensors are contiguous views: out= writes y in place.
            g, u, y_rows = gate[start : start + step], up[start : start + step], y[start : start + step]
            if impl == "out":
                torch.mul(F.silu(g), u, out=y_rows)
            else:
                torch.ops.aten.silu.out(g, out=y_rows)
                y_rows.mul_(u)
        return y
