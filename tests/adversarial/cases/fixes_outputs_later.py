# expect: rejected
# Protocol 5: honest in its correctness calls; while timed, returns an unfinished output and
# hands the work to a worker thread (started through a library, past the gate) that finishes it
# after the clock stops. Caught by the check for threads running after each timed call.
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
        self.calls = 0
        self.jobs = None

    def forward(self, x):
        self.calls += 1
        if self.calls <= 6:  # the correctness trials
            return torch.softmax(x, dim=-1)
        if self.jobs is None:
            self.jobs = queue.Queue()
            logging.handlers.QueueListener(self.jobs, Finisher()).start()
        out = torch.empty_like(x)
        self.jobs.put(logging.makeLogRecord({"x": x.clone(), "out": out}))
        return out
