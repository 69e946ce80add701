# expect: ok
"""Honest: Inductor generates and launches its own Triton kernels for the softmax.

Inductor starts background threads of its own (a compile pool, tqdm's monitor); the child keeps
them from outliving the call, so protocol item 5 must not reject an honest compiled candidate.
"""

import torch


def _softmax(x):
    shifted = x - x.amax(dim=-1, keepdim=True)
    e = torch.exp(shifted)
    return e / e.sum(dim=-1, keepdim=True)


# One compilation for every shape: the correctness stage's limit must cover it on a shared host.
_compiled = torch.compile(_softmax, dynamic=True)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return _compiled(x)
