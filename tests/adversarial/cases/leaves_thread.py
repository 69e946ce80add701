# expect: rejected
# Protocol 5: a thread still running after the call returns (started through a library, past the gate).
import logging.handlers
import queue

import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        logging.handlers.QueueListener(queue.Queue()).start()
        return torch.softmax(x, dim=-1)
