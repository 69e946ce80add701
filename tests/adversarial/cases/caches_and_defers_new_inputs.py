# expect: rejected
# Protocol 6 and 5: a cache keyed by content answers the timed calls; on inputs it has never
# seen after its trials (the probes), it returns at once and leaves a worker thread (started
# through a library, past the gate) to write the answer after the clock stops, so the probe
# looks fast and right. The check for threads running after a probe call names it.
import logging
import logging.handlers
import queue

import torch


class Finisher(logging.Handler):
    def emit(self, record):
        torch.softmax(record.x, dim=-1, out=record.out)


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = {}
        self.calls = 0
        self.jobs = None

    def forward(self, x):
        self.calls += 1
        flat = x.view(-1)
        key = (tuple(x.shape), float(flat[0]), float(flat[-1]))
        if key in self.seen:
            return self.seen[key]
        if self.calls <= 6:  # the correctness trials fill the cache
            self.seen[key] = torch.softmax(x, dim=-1)
            return self.seen[key]
        if self.jobs is None:
            self.jobs = queue.Queue()
            logging.handlers.QueueListener(self.jobs, Finisher()).start()
        out = torch.empty_like(x)
        self.jobs.put(logging.makeLogRecord({"x": x.clone(), "out": out}))
        return out
