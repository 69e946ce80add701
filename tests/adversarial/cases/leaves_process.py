# expect: rejected
# Protocol 5: a child process still running after the call returns.
import os
import time

import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        if getattr(os, "fo" + "rk")() == 0:
            time.sleep(60)
            getattr(os, "_ex" + "it")(0)
        return torch.softmax(x, dim=-1)
