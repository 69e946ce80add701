"""Matrix multiply through PyTorch's BLAS calls, with optional split-K.

With ``split_k`` = 1 this is one ``torch.mm``, the same library call as the reference,
and the family's baseline. With ``split_k`` > 1 the K dimension is cut into equal
slices, which adds parallelism when m and n are small next to k:

* ``bmm_sum`` views A as [split_k, m, k/split_k] and B as [split_k, k/split_k, n] (no
  copies), runs one batched ``torch.bmm`` and sums the partial products;
* ``addmm_chain`` multiplies the first slice with ``torch.mm`` and accumulates the rest
  into the same buffer with in-place ``addmm_``, so no partial products are stored.

A K that split_k does not divide falls back to ``torch.mm``.
"""

import torch

CONFIG_SPACE = {
    "split_k": [1, 2, 4, 8],
    "combine": ["bmm_sum", "addmm_chain"],
}


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        split = CONFIG["split_k"]  # noqa: F821 - injected by the evaluator
        m, k = a.shape
        n = b.shape[1]
        if split == 1 or k % split:
            return torch.mm(a, b)
        step = k // split
        if CONFIG["combine"] == "bmm_sum":  # noqa: F821
            a_slices = a.view(m, split, step).transpose(0, 1)
            b_slices = b.view(split, step, n)
            return torch.bmm(a_slices, b_slices).sum(dim=0)
        out = torch.mm(a[:, :step], b[:step])
        for start in range(step, k, step):
            out.addmm_(a[:, start : start + step], b[start : start + step])
        return out
