"""Tensors as files across the process boundary: inputs, outputs and expected outputs.

Loading never unpickles code (``weights_only``), since the child's files are the candidate's to
write; the reference's large files are mapped rather than read.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import torch


def save_outputs(outputs: Sequence[torch.Tensor], path: str | Path) -> None:
    """Write outputs for the parent to compare: detached CPU copies, loadable with weights_only.

    A copy from the GPU is already a tensor of its own; only a CPU output is cloned, so that a view
    never drags a larger storage into the file.
    """
    save_tensors([o.detach().cpu() if o.is_cuda else o.detach().clone() for o in outputs], path)


def save_tensors(values: Any, path: str | Path) -> None:
    """``torch.save`` without the archive's CRC32.

    The checksum guards against a damaged disk, not against a candidate (``load_tensors`` never
    unpickles code either way), and it costs time on every output a candidate writes: writing
    512 MB took 0.6 to 1.0 s with it and 0.4 s without (``benchmarks/tensor_exchange.py``).
    """
    with _without_crc32():
        torch.save(values, path)


def _without_crc32() -> AbstractContextManager[Any]:
    try:
        from torch.utils.serialization import config
    except ImportError:  # torch before 2.6 always writes the checksum: slower, still correct
        return nullcontext()
    return config.patch({"save.compute_crc32": False})  # type: ignore[attr-defined]


def load_tensors(path: str | Path) -> Any:
    """Load inputs or outputs without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)


def map_tensors(path: str | Path) -> Any:
    """Load a file of the reference's mapped instead of read: no copy, and pages shared with the
    page cache, for outputs of hundreds of megabytes that are compared many times.

    Never for a file a candidate's process wrote: it could truncate the file under the mapping,
    and reading a page past the new end kills the reader with SIGBUS.
    """
    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
