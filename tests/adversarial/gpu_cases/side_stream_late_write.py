# expect: rejected
# Work left on a side stream: the call returns before its output is written.
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            torch.cuda._sleep(50_000_000)
            out.copy_(torch.softmax(x, dim=-1))
        return out
