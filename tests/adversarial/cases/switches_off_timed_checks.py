# expect: rejected
# Anti-cheat: honest in its correctness calls; once timed, it replaces the harness's sampler of
# timed outputs (reached through sys.modules, past the gate) so no wrong answer is ever kept,
# then returns garbage fast. The integrity check after the timed calls names the replacement.
import sys

import torch

harness_modules = getattr(sys, "mod" + "ules")


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls <= 6:  # the correctness trials
            return torch.softmax(x, dim=-1)
        sampler = harness_modules["evaluator.child.call_guards"].TimedOutputSampler
        sampler.offer = lambda self, sample, output: None
        return torch.empty_like(x)
