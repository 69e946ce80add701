"""Device names: ``cpu`` or ``cuda:N``, validated before any work starts."""

from __future__ import annotations

import re

from evaluator.errors import EvaluatorError


def normalize_device(device: str) -> str:
    """``cuda`` becomes ``cuda:0``; anything but cpu/cuda[:N] is refused with the accepted forms."""
    text = device.strip().lower()
    if text == "cpu":
        return "cpu"
    if text == "cuda":
        text = "cuda:0"
    if not re.fullmatch(r"cuda:\d+", text):
        raise EvaluatorError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'")
    return text


def check_device_available(device: str) -> str:
    """Normalize and make sure a CUDA device exists, so a run never starts on a missing GPU."""
    name = normalize_device(device)
    if name.startswith("cuda"):
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = int(name.split(":")[1])
        if index >= count:
            raise EvaluatorError(
                f"device {name} requested but this machine has {count} CUDA device(s); try --device cpu"
            )
    return name
