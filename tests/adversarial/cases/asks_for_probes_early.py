# expect: rejected
# Protocol 6: asking for a probe's inputs before the shape was checked and timed, to compute the
# answers ahead of the probe calls, is refused.
import os
import sys

import torch

descriptor = int(getattr(sys, "ar" + "gv")[2])
os.write(descriptor, b'{"event": "probe_request", "shape": "small", "probe": 0}\n')


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
