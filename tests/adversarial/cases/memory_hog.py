# expect: out_of_memory
# Protocol 1: an allocation beyond the memory limit ends only this candidate.
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        hog = torch.ones(64 * 1024**3 // 4)
        return torch.softmax(x, dim=-1) + hog[0] * 0
