# expect: rejected
# Protocol 7: sys.modules is the classic way past an import gate.
import sys

import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        sys.modules["threading"].Thread(target=lambda: None).start()
        return torch.softmax(x, dim=-1)
