# expect: rejected
# Protocol 6: the input files the job names are readable (in the candidate's own directory, or a
# shared read-only folder), so it computes every answer at import, untimed, and looks them up by
# content. The probes' inputs are nowhere it can read until its timed calls are over.
import json
import os

import torch

load = getattr(torch, "lo" + "ad")
device = "cuda" if torch.cuda.is_available() else "cpu"
descriptor = getattr(os, "op" + "en")(os.path.join(os.getcwd(), "job.json"), os.O_RDONLY)
job = json.loads(getattr(os, "re" + "ad")(descriptor, 1 << 22))
paths = {t["inputs_path"] for t in job["trials"]}
answers = {}
for path in sorted(paths):
    (x,) = load(path, weights_only=True)
    x = x.to(device)
    answers[(tuple(x.shape), float(x.view(-1)[0]), float(x.view(-1)[-1]))] = torch.softmax(x, dim=-1)


class ModelNew(torch.nn.Module):
    def forward(self, x):
        flat = x.view(-1)
        found = answers.get((tuple(x.shape), float(flat[0]), float(flat[-1])))
        return found if found is not None else torch.softmax(x, dim=-1)
