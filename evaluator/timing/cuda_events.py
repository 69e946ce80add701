"""One CUDA sample: an L2 flush, the call bracketed by events, the whole device synchronized.

The flush buffer is at least twice the device's L2 and is zeroed before every sample, so no
sample starts with its data cached; lines marked persisting are reset first, since they would
survive it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evaluator.timing.stats import Call


def cuda_sample(flush: Any, call: Call, inputs: Sequence[Any]) -> tuple[float, Any]:
    """One call after an L2 flush, bracketed by events, the whole device synchronized after."""
    import torch

    from evaluator.hardware.devices import reset_persisting_l2

    reset_persisting_l2()  # lines marked persisting would survive the flush
    flush.zero_()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    output = call(inputs)
    end.record()
    torch.cuda.synchronize()  # the whole device, so side-stream work lands before `end` is read
    return start.elapsed_time(end) * 1e3, output


def l2_flush_buffer() -> Any:
    """A buffer at least twice the device's L2, zeroed before each sample to evict cached data."""
    import torch

    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    l2_bytes = int(getattr(props, "L2_cache_size", 0) or 50 * 1024**2)
    return torch.empty(max(2 * l2_bytes, 64 * 1024**2) // 4, dtype=torch.int32, device="cuda")
