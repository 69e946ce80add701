# expect: wrong_output
# Protocol 3: a second shape catches a kernel hard-wired to the first one.
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        head = torch.softmax(x[:, :512], dim=-1)
        out = torch.zeros_like(x)
        out[:, :512] = head
        return out
