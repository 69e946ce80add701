# expect: rejected
# Protocol 5: honest in its correctness calls; while timed, it returns an output mapped from a
# shared file and forks twice, so that a grandchild (re-parented away from the harness, and gone
# by the end of the shape) finishes the output after the clock stops. Caught by the look for
# processes after every timed call.
import os
import tempfile

import torch

_fork, _exit = getattr(os, "fo" + "rk"), getattr(os, "_ex" + "it")
_mapped = getattr(torch, "from_" + "file")


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls <= 6:  # the correctness trials
            return torch.softmax(x, dim=-1)
        path = os.path.join(tempfile.gettempdir(), f"out{self.calls}")
        out = _mapped(path, shared=True, size=x.numel(), dtype=x.dtype).view_as(x)
        child = _fork()
        if child == 0:
            if _fork() == 0:
                torch.softmax(x, dim=-1, out=out)
            _exit(0)
        os.waitpid(child, 0)
        return out
