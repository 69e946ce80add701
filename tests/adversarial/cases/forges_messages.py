# expect: rejected
# Protocol 3: candidate code can write to the harness's message pipe (its descriptor is on the
# command line). The harness sends each message once, so the real one arriving after a forged
# one gives the forgery away; here, a stage change announced early.
import os
import sys

import torch

descriptor = int(getattr(sys, "ar" + "gv")[2])
os.write(descriptor, b'{"event": "stage", "stage": "correctness"}\n')


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
