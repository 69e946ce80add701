"""Checks the harness makes inside the child around each call, against kernels that cheat.

Each one answers a trick seen in generated kernels: writing to an input, leaving a thread or
process behind, monkey-patching the timer or the comparison, answering right only on some
calls, returning memory that still holds an old answer, or finishing on a side stream after
the call has returned.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch


def mutated_inputs(before: Sequence[Any], after: Sequence[Any]) -> list[int]:
    """Indices of tensor inputs whose contents changed during the call (NaNs compare equal)."""
    changed = []
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        if not isinstance(a, torch.Tensor) or torch.equal(a, b):  # one pass where there is no NaN
            continue
        same_nans = torch.equal(a.isnan(), b.isnan())
        if not same_nans or not torch.equal(a.nan_to_num(0.0), b.nan_to_num(0.0)):
            changed.append(i)
    return changed


def reused_output_memory(outputs: Sequence[torch.Tensor], earlier: Sequence[torch.Tensor]) -> int | None:
    """Index of an output that lives in memory an earlier call returned, which the harness still holds.

    Memory still referenced cannot be handed out again by an allocator, so a shared address means
    the candidate returns one buffer of its own every time: the caller's earlier result would be
    overwritten by the next call (and a timed output kept for checking, by later samples).
    """
    held = {t.untyped_storage().data_ptr() for t in earlier if t.numel()}
    shared = (i for i, t in enumerate(outputs) if t.numel() and t.untyped_storage().data_ptr() in held)
    return next(shared, None)


# Functions a candidate could replace to fake a timing or a comparison.
WATCHED_ATTRIBUTES = (
    ("time", "perf_counter"),
    ("time", "perf_counter_ns"),
    ("time", "monotonic"),
    ("time", "time"),
    ("time", "process_time_ns"),
    ("resource", "getrusage"),
    ("torch", "equal"),
    ("torch", "allclose"),
    ("torch", "save"),
    ("torch", "load"),
    ("torch", "isfinite"),
    ("torch.Tensor", "__eq__"),
    ("torch.Tensor", "clone"),
    ("torch.Tensor", "to"),
    ("torch.Tensor", "cpu"),
    ("torch.nn.Module", "__call__"),
    ("torch.cuda", "synchronize"),
    ("torch.cuda", "Event"),
    ("torch.cuda", "current_stream"),
    ("torch.cuda.Event", "record"),
    ("torch.cuda.Event", "elapsed_time"),
    ("torch.cuda.Event", "synchronize"),
    ("torch.cuda.Stream", "synchronize"),
    ("torch.cuda.Stream", "query"),
    ("json", "dumps"),
    ("os", "write"),
    ("evaluator.wire.messages.Channel", "send"),
    # The harness's own checks, reached through their modules at every call.
    ("evaluator.child.call_guards.TimedOutputSampler", "offer"),
    ("evaluator.child.call_guards.TimedOutputSampler", "kept"),
    ("threading", "enumerate"),
    ("evaluator.child.leftovers", "child_processes"),
    ("evaluator.child.leftovers.LeftoverCheck", "leftovers"),
    ("evaluator.child.leftovers.StrayWork", "after_sample"),
    ("evaluator.wire.tensor_files", "save_tensors"),
    ("evaluator.wire.tensor_files", "save_outputs"),
    ("evaluator.child.runtime", "plain_outputs"),
    # The CPU samplers of the timing loops, looked up as module globals at every sample.
    ("evaluator.timing.loop", "_cpu_sample"),
    ("evaluator.timing.loop", "_cpu_sample_both"),
    ("evaluator.timing.loop", "_time_probe_on_cpu"),
    ("evaluator.timing.loop", "_cpu_time_ns"),
    ("evaluator.child.candidate_run.CandidateRun", "fail"),
    ("evaluator.child.candidate_run.CandidateRun", "patched"),
    ("evaluator.child.candidate_run.CandidateRun", "trial"),
    ("evaluator.child.candidate_run.CandidateRun", "time_shape"),
    ("evaluator.child.candidate_run.CandidateRun", "probe"),
)


def _resolve(path: str) -> Any:
    import importlib

    parts = path.split(".")
    obj: Any = importlib.import_module(parts[0])
    for part in parts[1:]:
        obj = getattr(obj, part)
    return obj


class IntegrityGuard:
    """Remembers the harness's timing, sync and comparison functions before candidate code runs.

    Any later difference means the candidate monkey-patched them: the evaluation is rejected.
    """

    def __init__(self) -> None:
        self._originals: dict[str, Any] = {}
        for owner, name in WATCHED_ATTRIBUTES:
            try:
                self._originals[f"{owner}.{name}"] = getattr(_resolve(owner), name)
            except (ImportError, AttributeError):
                continue

    def tampered(self) -> list[str]:
        changed = []
        for key, original in self._originals.items():
            owner, name = key.rsplit(".", 1)
            try:
                current = getattr(_resolve(owner), name)
            except (ImportError, AttributeError):
                changed.append(key)
                continue
            if current is not original and current != original:
                changed.append(key)
        return changed


class TimedOutputSampler:
    """Keeps timed outputs for the parent to check: one per input set, each reservoir-sampled.

    Every input set gets a check, so a kernel that answers right for one set (say, from a cache
    filled on the first sample) and stale for the others is caught; and within a set, which
    call is checked is uniform over all of them, so being right only for a while is caught too.
    """

    def __init__(self, rng: random.Random, input_sets: int) -> None:
        self._rng = rng
        self._sets = input_sets
        self._seen = [0] * input_sets
        self._kept: dict[int, tuple[int, Any]] = {}
        self._always: list[tuple[int, Any]] = []

    def offer(self, sample: int, output: Any) -> None:
        group = sample % self._sets
        self._seen[group] += 1
        if self._rng.randrange(self._seen[group]) == 0:
            self._kept[group] = (sample, output)

    def check_too(self, input_set: int, output: Any) -> None:
        """An output to check whatever the sampling, such as the one from a CUDA-graph replay."""
        self._always.append((input_set, output))

    def kept(self) -> list[tuple[int, int, Any]]:
        """(sample, input set, output); outputs given to ``check_too`` get negative sample numbers."""
        sampled = [(s, s % self._sets, out) for s, out in (self._kept[g] for g in sorted(self._kept))]
        return sampled + [(-1 - i, group, out) for i, (group, out) in enumerate(self._always)]


def poison_free_memory(device: str) -> None:
    """Fill the CUDA caching allocator's free blocks with NaN before a call.

    A kernel that skips its work and returns ``torch.empty`` would otherwise hand back memory
    that still holds an earlier, correct answer. On the CPU, large allocations come fresh from
    the OS (zeroed) and the rotating inputs make any stale answer a wrong one.

    Free space is fragmented over many cached blocks, so each free block is claimed by a request
    of its own size (the allocator's best fit hands back that very block). One request for the
    total would not fit any of them: it would reserve new memory, poison that, and leave the old
    blocks as they were.
    """
    if not device.startswith("cuda"):
        return
    torch.cuda.synchronize()
    reserved_before = torch.cuda.memory_reserved()
    index = torch.cuda.current_device()
    sizes = sorted(
        (
            int(block["size"])
            for segment in torch.cuda.memory_snapshot()
            if segment.get("device", index) == index
            for block in segment.get("blocks", [])
            if block.get("state") == "inactive" and int(block.get("size", 0)) >= 4
        ),
        reverse=True,
    )
    blobs = [torch.empty(size // 4, dtype=torch.float32, device=device) for size in sizes]
    for blob in blobs:
        blob.fill_(float("nan"))
    torch.cuda.synchronize()
    del blobs
    if torch.cuda.memory_reserved() > reserved_before:
        torch.cuda.empty_cache()  # a request that found no block of its own reserved new memory


def settled_on_other_streams(outputs: list[torch.Tensor]) -> bool:
    """True if outputs still change after the call's own stream is done: work left on another stream.

    Called right after the call returns, before any device-wide sync.
    """
    if not outputs or not outputs[0].is_cuda:
        return False
    torch.cuda.current_stream().synchronize()
    snapshots = [o.detach().clone() for o in outputs]
    torch.cuda.current_stream().synchronize()
    torch.cuda.synchronize()
    return any(
        not torch.equal(s.nan_to_num(0.0), o.nan_to_num(0.0)) for s, o in zip(snapshots, outputs, strict=True)
    )
