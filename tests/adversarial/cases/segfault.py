# expect: crashed
# Protocol 1: a process that dies by a signal is crashed, never ok.
import os

import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        getattr(os, "ki" + "ll")(os.getpid(), 11)
        return torch.softmax(x, dim=-1)
