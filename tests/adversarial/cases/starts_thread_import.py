# expect: rejected
# Protocol 7: the static gate turns away thread APIs outright.
import threading

import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        threading.Thread(target=lambda: None).start()
        return torch.softmax(x, dim=-1)
