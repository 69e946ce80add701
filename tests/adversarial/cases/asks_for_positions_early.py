# expect: rejected
# Protocol 6: asking at import for the positions its timed outputs will be checked at, to be
# right only there while timed, is refused: they are drawn once the shape is checked and timed.
import os
import sys

import torch

descriptor = int(getattr(sys, "ar" + "gv")[2])
os.write(descriptor, b'{"event": "check_request", "shape": "small"}\n')


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
