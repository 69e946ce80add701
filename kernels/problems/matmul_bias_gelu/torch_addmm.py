"""Matmul + bias + GELU through PyTorch: one ``torch.addmm``, then GELU in place.

``torch.addmm(bias, a, b)`` hands the bias to the BLAS call as its ``C`` operand instead of
adding it in a pass of its own: on the GPU, cuBLASLt adds a 1-D bias in the GEMM's
epilogue, so the biased product is written once; on the CPU the bias is broadcast into
the output and the GEMM accumulates onto it (beta = 1). The GELU then runs in place on
that buffer, one read and one write, with no second m x n allocation: one full pass fewer
than the reference and half its temporaries. (``torch._addmm_activation(use_gelu=True)``
would fuse the GELU too, but its CPU path applies the exact erf GELU, not the tanh one.)

``epilogue`` picks the precision of the epilogue for 16-bit inputs:

* ``inplace``: addmm in the input dtype, then ``aten.gelu_`` on its output (computed in
  fp32 per element, rounded once): the product-plus-bias is rounded once before the GELU;
* ``upcast``: the product is kept in fp32 (on the GPU ``torch.mm(..., out_dtype=float32)``
  returns cuBLAS's fp32 accumulator unrounded; the CPU has no such overload, so its
  16-bit product is widened), the bias is added and the GELU applied in fp32, and the
  result is rounded once into the output, as the fused Triton epilogue does. It costs an
  fp32 temporary written and read three times. For fp32 inputs both are the same.

``chunk_rows`` runs addmm + GELU over slabs of rows, so the GELU reads a slab that the
matmul has just written while it is still in L2 (a 1024 x 14336 bf16 slab is 29 MB);
0 runs the whole output at once.
"""

import torch

CONFIG_SPACE = {
    "epilogue": ["inplace", "upcast"],
    "chunk_rows": [0, 1024, 4096],  # 0: whole output at once; otherwise rows per slab
}


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def _slab(self, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor, out: torch.Tensor) -> None:
        if CONFIG["epilogue"] == "inplace" or a.dtype == torch.float32:  # noqa: F821 - injected by the evaluator
            torch.addmm(bias, a, b, out=out)
            torch.ops.aten.gelu_(out, approximate="tanh")
            return
        # fp32 accumulator -> + bias -> GELU, all in fp32, then one rounding into out.
        acc = torch.mm(a, b, out_dtype=torch.float32) if a.is_cuda else torch.mm(a, b).float()
        acc.add_(bias)
        out.copy_(torch.ops.aten.gelu_(acc, approximate="tanh"))

    def forward(self, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        m = a.shape[0]
        out = torch.empty((m, b.shape[1]), dtype=a.dtype, device=a.device)
        step = CONFIG["chunk_rows"] or m  # noqa: F821
        for start in range(0, m, step):
            self._slab(a[start : start + step], b, bias, out[start : start + step])
        return out
