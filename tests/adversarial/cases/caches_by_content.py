# expect: rejected
# Protocol 6: timed calls rotate through inputs the candidate met in its trials, so a cache keyed
# by a few input values answers them from memory, right and far too fast. Calls on inputs it has
# never seen, made after timing, are slow and give it away.
import torch


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = {}

    def forward(self, x):
        flat = x.view(-1)
        key = (tuple(x.shape), float(flat[0]), float(flat[-1]))
        if key not in self.seen:
            self.seen[key] = torch.softmax(x, dim=-1)
        return self.seen[key]
