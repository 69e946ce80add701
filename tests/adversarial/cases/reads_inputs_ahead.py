# expect: rejected
# Protocol 6: the input files in the candidate's own directory are readable, so it computes every
# answer at import, untimed, and looks them up by content. The probes' inputs are not there
# until its timed calls are over.
import os

import torch

load = getattr(torch, "lo" + "ad")
device = "cuda" if torch.cuda.is_available() else "cpu"
folder = os.path.join(os.getcwd(), "inputs")
answers = {}
for name in sorted(getattr(os, "list" + "dir")(folder)) if os.path.isdir(folder) else []:
    if name.startswith("inputs_"):
        (x,) = load(os.path.join(folder, name), weights_only=True)
        x = x.to(device)
        answers[(tuple(x.shape), float(x.view(-1)[0]), float(x.view(-1)[-1]))] = torch.softmax(x, dim=-1)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        flat = x.view(-1)
        found = answers.get((tuple(x.shape), float(flat[0]), float(flat[-1])))
        return found if found is not None else torch.softmax(x, dim=-1)
