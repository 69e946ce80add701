# expect: rejected
# Protocol 5: a worker thread started at import (through a library, past the gate) sits idle
# through the correctness calls, which are honest. Timed calls return at once and leave the
# answer to the worker, which writes it after the clock stops. Threads are counted from before
# the candidate's module was loaded, so the idle worker is named.
import logging
import logging.handlers
import queue

import torch


class Finisher(logging.Handler):
    def emit(self, record):
        torch.softmax(record.x, dim=-1, out=record.out)


jobs = queue.Queue()
logging.handlers.QueueListener(jobs, Finisher()).start()


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls <= 6:  # the correctness trials
            return torch.softmax(x, dim=-1)
        out = torch.empty_like(x)
        jobs.put(logging.makeLogRecord({"x": x.clone(), "out": out}))
        return out
