# expect: wrong_output
# Protocol 3: answers memorized for a guessed seed fail on the run's secret seeds.
import torch


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.memo = {}
        for seed in range(4):
            torch.manual_seed(seed)
            for rows, cols in ((64, 512), (128, 2048)):
                x = torch.randn(rows, cols)
                self.memo[(rows, cols)] = torch.softmax(x, dim=-1)

    def forward(self, x):
        return self.memo[tuple(x.shape)].clone()
