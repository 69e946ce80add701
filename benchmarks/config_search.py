"""Evaluations the two-level search needs, against plain config search, to reach a family's best config.

Two-level search is how Crucible tunes a structure: a kernel (a built-in variant family or one an
LLM wrote) declares a CONFIG_SPACE, and ``agent.tuner.make_tuner`` sets its parameters: an
exhaustive walk for spaces of at most 32 points, seeded TPE (Optuna) for larger ones. The
baseline is plain config search, uniformly random sampling without replacement over the same
space; the exhaustive grid in declaration order is reported too. Every point of each space is
evaluated first, so its true best is known. The figures are the evaluations each method needs to
first reach the best config and to first come within 5% of it, as the median and p90 over
``--seeds`` seeds (20 by default), and the ratio random / two-level of the medians. Each trial is
capped at the space's size. The tuner runs through its real ask/tell API on real ``EvalResult``
objects, one ``ShapeMetrics`` per CUDA shape of the problem. What it ranks is therefore
``EvalResult.latency_us``, the geometric mean over shapes, exactly as in a run. A config that
cannot launch counts as an evaluation and is told as a failure.

    .venv/bin/python benchmarks/config_search.py      # table, and JSON in benchmarks/results/

MODELLED LATENCY, NOT MEASURED. This machine has no GPU, and Triton under TRITON_INTERPRET
times nothing, so every latency here comes from the analytic model below. The model is built to
give landscapes with the right kind of structure: interacting knobs, cliffs where registers or
shared memory run out, wave tails, ties where the families clamp a knob. It was not fitted to
timings, and no speedup can be read off it. What the benchmark measures is the search, on
landscapes of that kind.

Landscapes. (a) Built-in: the CONFIG_SPACE of every built-in Triton variant family, as
declared (read by ``kernels.families.load_families``), over its problem's CUDA shapes. The
biggest declares 48 points. (b) Synthetic: three wider spaces on the same model and the same
shapes (matmul tiles, 384 points; online softmax, 168; split-K, 144). They are labelled
synthetic and are not the CONFIG_SPACE of any family; no built-in space was enlarged.

The model, for an H100 SXM5 (``H100`` below: 132 SMs at 1.755 GHz, 3.35 TB/s HBM3 of which 90% is
reachable, 50 MB L2, 64 warps, 32 programs, 64 K registers and 228 KiB shared memory per SM):

* Occupancy: resident programs per SM are limited by warps, registers and shared memory. A
  program needs at least one slot, so the compiler caps registers at
  min(255, 65536 / threads), and any demand above that cap spills: local-memory round trips
  through L2, plus extra instructions. Shared memory above 227 KiB per program cannot launch;
  the result is RUNTIME_ERROR.
* Waves: a launch runs ceil(programs / (132 x resident)) waves. A wave's time is a soft
  maximum (p=3) of memory time, issue time and the slowest program's dependency chain. In a
  partial wave, fewer SMs are busy and each holds fewer programs. That is wave quantization.
* Memory (row-wise and elementwise kernels): bytes in flight per SM (Little's law) set the share
  of HBM bandwidth reached, 1 - exp(-inflight / 16 KiB). Re-reads of a row hit L2 while the
  resident rows fit in half of it, and otherwise go back to DRAM. L2 runs at 7 TB/s.
* Issue: lane-instructions per element (GELU, an int64 modulo, reductions, one load or store
  per 128-bit vector) over 128 lanes per SM per cycle. Fewer than 16 resident warps per SM
  issue proportionally less. Masked padding lanes still issue.
* Chains: DRAM latency of 1,200 cycles (L2: 300), cross-warp reductions of
  150 + 80 + 30 log2(warps) cycles, and loop trips overlapped by ``num_stages - 1`` prefetches.
* Tensor-core kernels (matmul): 989 TFLOPS dense for 16-bit operands and 495/3 for fp32
  (tf32x3). Warpgroup efficiency is 1 - exp(-tile outputs per warpgroup / 4096) / 2, and L2-to-SM
  operand traffic runs at 40 B per cycle per SM. Each k-step on an SM costs the maximum of its
  compute, its operand loads and latency / (resident x (stages - 1)). Accumulators live in
  registers (BM x BN / threads per thread). DRAM traffic assumes GROUP_M=8 reuse. Split-K adds
  its fp32 workspace round trip and a second, streaming launch. Every launch costs 2.5 us.
* Noise: each shape's latency is multiplied by a lognormal factor (sigma ``--noise``, 3%). The
  factor is seeded by the space, the shape and the launch the config produces after the family's
  own clamping, so two configs that launch the same kernel get the same latency (ties count as
  the best together).
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from agent.tuner import ExhaustiveTuner, Tuner, make_tuner
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Language
from kernels.config import Config, ConfigSpace, enumerate_space, space_size
from kernels.families import load_families
from kernels.problem import Shape, load_problem

from result_files import append_run, commit, result_path

# --- the device -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gpu:
    """The model's device constants (H100 SXM5 80GB HBM3)."""

    name: str = "NVIDIA H100 80GB HBM3 (SXM5), modelled"
    sms: int = 132
    clock_hz: float = 1.755e9
    hbm_bytes_s: float = 3.35e12
    hbm_reachable: float = 0.90
    inflight_k: float = 16 * 1024  # bytes in flight per SM for 1 - 1/e of reachable bandwidth
    l2_bytes: float = 50 * 2**20
    l2_bytes_s: float = 7.0e12
    l2_to_sm_bytes_cycle: float = 40.0  # operand traffic per SM, tensor-core kernels
    lanes_per_sm: int = 128
    warps_for_full_issue: int = 16
    max_warps: int = 64
    max_programs: int = 32
    registers: int = 65536
    smem_sm: int = 228 * 1024
    smem_program: int = 227 * 1024
    tc_flops_16bit: float = 989e12
    tc_flops_tf32: float = 495e12
    dram_latency: float = 1200.0  # cycles
    l2_latency: float = 300.0
    launch_us: float = 2.5


H100 = Gpu()
SOFT_P = 3.0
SPILL_ROUNDTRIPS = 4  # each spilled register is stored and reloaded this many times per program


def smax(*terms: float) -> float:
    """A soft maximum: the largest term dominates, but near-equal terms cost a little more."""
    return sum(t**SOFT_P for t in terms) ** (1 / SOFT_P)


def reduction_cycles(warps: int) -> float:
    """One tl.sum/tl.max across a program: shuffles within a warp, then shared memory and a barrier."""
    return 150.0 + (80.0 + 30.0 * math.log2(warps) if warps > 1 else 0.0)


@dataclass(frozen=True)
class Occupancy:
    resident: int  # programs per SM
    spilled: float  # registers per thread over the compiler's cap


def occupancy(warps: int, registers: float, smem: float, gpu: Gpu = H100) -> Occupancy | None:
    """Resident programs per SM, or None when one program's shared memory cannot fit."""
    if smem > gpu.smem_program:
        return None
    threads = 32 * warps
    cap = min(255, gpu.registers // threads // 8 * 8)
    used = min(math.ceil(registers / 8) * 8, cap)
    by_smem = int(gpu.smem_sm // smem) if smem else gpu.max_programs
    resident = min(gpu.max_programs, gpu.max_warps // warps, gpu.registers // (used * threads), by_smem)
    return Occupancy(max(1, resident), max(0.0, registers - cap))


# --- streaming (row-wise and elementwise) kernels ---------------------------------------------


@dataclass(frozen=True)
class Stream:
    """One launch of a memory-bound kernel, per program."""

    programs: int
    warps: int
    registers: float  # per thread, as the kernel would like
    dram_bytes: float  # per program
    instructions: float  # per thread
    inflight: float  # bytes of loads a program keeps outstanding
    chain_cycles: float  # a program's dependency chain
    smem: float = 0.0
    l2_bytes: float = 0.0  # per program: re-reads and shared operands that hit L2


def stream_us(launch: Stream, gpu: Gpu = H100) -> float | None:
    occ = occupancy(launch.warps, launch.registers, launch.smem, gpu)
    if occ is None:
        return None
    threads = 32 * launch.warps
    l2_bytes = launch.l2_bytes + threads * occ.spilled * 4 * SPILL_ROUNDTRIPS
    instructions = launch.instructions + occ.spilled * 2 * SPILL_ROUNDTRIPS

    def wave_s(programs: int) -> float:
        active = min(gpu.sms, programs)
        per_sm = math.ceil(programs / gpu.sms)
        share = active / gpu.sms
        reach = 1 - math.exp(-per_sm * launch.inflight / gpu.inflight_k)
        memory = programs * (
            launch.dram_bytes / (gpu.hbm_bytes_s * gpu.hbm_reachable * reach * share)
            + l2_bytes / (gpu.l2_bytes_s * share)
        )
        issue_rate = active * gpu.lanes_per_sm * gpu.clock_hz
        issue_rate *= min(1.0, per_sm * launch.warps / gpu.warps_for_full_issue)
        issue = programs * threads * instructions / issue_rate
        return smax(memory, issue, launch.chain_cycles / gpu.clock_hz)

    slots = gpu.sms * occ.resident
    full, rest = divmod(launch.programs, slots)
    seconds = full * wave_s(slots) + (wave_s(rest) if rest else 0.0)
    return seconds * 1e6 + gpu.launch_us


def resident_rows(launch_warps: int, registers: float, smem: float = 0.0) -> int:
    """Programs resident on the whole GPU at once (for the L2 working set)."""
    occ = occupancy(launch_warps, registers, smem)
    return H100.sms * (occ.resident if occ else 1)


def l2_hit(resident: int, row_bytes: float) -> float:
    """Share of a row's re-reads that hit L2: all while the resident rows fit in half of it."""
    return min(1.0, 0.5 * H100.l2_bytes / max(1.0, resident * row_bytes))


def next_pow2(n: int) -> int:
    return 1 << (n - 1).bit_length()


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


# --- the families' launches, as their forward() builds them ----------------------------------
# Each model takes a config and a shape's sizes and returns (latency_us or None, the launch key).
# The launch key is what the config becomes after the family's own clamping; the noise is seeded
# by it, so configs that launch the same kernel get the same latency.

Modelled = tuple[float | None, tuple]
GELU_INSTR = 24  # per element: cubic, exp, abs, select, reciprocal, multiplies
INT64_MOD_INSTR = 30  # per element: a 64-bit modulo by a runtime value is emulated


def bias_gelu_flat(cfg: Mapping, sizes: Mapping) -> Modelled:
    block, warps = int(cfg["BLOCK"]), int(cfg["num_warps"])
    n = int(sizes["rows"]) * int(sizes["cols"])
    per_thread = max(1.0, block / (32 * warps))  # a block narrower than the threads wastes lanes
    vec = min(4.0, per_thread)
    programs = cdiv(n, block)
    launch = Stream(
        programs=programs,
        warps=warps,
        registers=18 + 3 * per_thread,
        dram_bytes=2 * n * 4 / programs,
        l2_bytes=block * 4 * 0.25,  # the bias gather, mostly from L1
        instructions=12 + per_thread * (GELU_INSTR + INT64_MOD_INSTR + 1 + 2 / vec),
        inflight=block * 4,
        chain_cycles=H100.dram_latency + 300,
    )
    return stream_us(launch), (block, warps)


def bias_gelu_tiled2d(cfg: Mapping, sizes: Mapping) -> Modelled:
    bm, bn, warps = int(cfg["BLOCK_M"]), int(cfg["BLOCK_N"]), int(cfg["num_warps"])
    rows, cols = int(sizes["rows"]), int(sizes["cols"])
    threads = 32 * warps
    per_thread = max(1.0, bm * bn / threads)
    vec = min(4.0, per_thread)
    programs = cdiv(rows, bm) * cdiv(cols, bn)
    launch = Stream(
        programs=programs,
        warps=warps,
        registers=20 + 3 * per_thread + bn / threads,
        dram_bytes=2 * rows * cols * 4 / programs,  # padding tiles issue, but move no bytes
        l2_bytes=bn * 4,
        instructions=20 + per_thread * (GELU_INSTR + 2 / vec) + max(1.0, bn / threads),
        inflight=bm * bn * 4,
        chain_cycles=H100.dram_latency + 300,
    )
    return stream_us(launch), (bm, bn, warps)


def _rowwise(
    rows_per_program: int, warps: int, sizes: Mapping, *, instr: float, reductions: int, vectors: int
) -> Modelled:
    """A whole-row-in-registers kernel (softmax, layernorm, rmsnorm ``triton_rowwise``)."""
    rows, cols = int(sizes["rows"]), int(sizes["cols"])
    block_n = next_pow2(cols)
    block_m = min(rows_per_program, max(1, 16384 // block_n))  # the families' MAX_TILE_ELEMENTS
    threads = 32 * warps
    per_thread = max(1.0, block_m * block_n / threads)
    vec = min(4.0, per_thread)
    programs = cdiv(rows, block_m)
    launch = Stream(
        programs=programs,
        warps=warps,
        registers=24 + 3.5 * per_thread,
        dram_bytes=2 * rows * cols * 4 / programs,
        l2_bytes=vectors * cols * 4,  # weight (and bias) once per program, shared by its rows
        instructions=16 + per_thread * (instr + 2 / vec) + vectors * max(1.0, block_n / threads),
        inflight=block_m * cols * 4,
        chain_cycles=H100.dram_latency + reductions * reduction_cycles(warps) + 200,
    )
    return stream_us(launch), (block_m, warps)


def softmax_rowwise(cfg: Mapping, sizes: Mapping) -> Modelled:
    return _rowwise(cfg["rows_per_program"], cfg["num_warps"], sizes, instr=8, reductions=2, vectors=0)


def layernorm_rowwise(cfg: Mapping, sizes: Mapping) -> Modelled:
    return _rowwise(cfg["rows_per_program"], cfg["num_warps"], sizes, instr=10, reductions=2, vectors=2)


def rmsnorm_rowwise(cfg: Mapping, sizes: Mapping) -> Modelled:
    return _rowwise(cfg["rows_per_program"], cfg["num_warps"], sizes, instr=6, reductions=1, vectors=1)


def _tiled(
    block: int,
    warps: int,
    stages: int,
    rows: int,
    cols: int,
    *,
    sweep_instr: tuple[float, ...],
    vectors: int,
    reductions: int,
    extra_chain: float = 0.0,
    out_bytes_per_row: float | None = None,
) -> Modelled:
    """One program per row, walking it in ``block``-wide tiles, one sweep per entry of ``sweep_instr``.

    The first sweep reads the row from DRAM; later sweeps re-read it, from L2 while the resident
    rows fit. The last sweep writes the row unless ``out_bytes_per_row`` says otherwise.
    """
    block = min(block, next_pow2(cols))  # the families clamp: a tile wider than the row wastes lanes
    threads = 32 * warps
    per_thread = max(1.0, block / threads)
    vec = min(4.0, per_thread)
    trips = cdiv(cols, block)
    prefetch = max(1, stages - 1)
    registers = 24 + 4 * per_thread + (stages - 1) * per_thread * 0.5
    smem = (stages - 1) * block * 4 if stages > 1 else 0.0
    row_bytes = cols * 4
    hit = l2_hit(resident_rows(warps, registers, smem), row_bytes)
    rereads = len(sweep_instr) - 1
    out = row_bytes if out_bytes_per_row is None else out_bytes_per_row
    chain = extra_chain + reductions * reduction_cycles(warps)
    for sweep, instr in enumerate(sweep_instr):
        latency = H100.dram_latency if sweep == 0 else hit * H100.l2_latency + (1 - hit) * H100.dram_latency
        trip_compute = per_thread * instr * max(1.0, warps / 4)
        chain += trips * max(trip_compute, latency / prefetch) + latency
    launch = Stream(
        programs=rows,
        warps=warps,
        registers=registers,
        smem=smem,
        dram_bytes=row_bytes * (1 + rereads * (1 - hit)) + out,
        l2_bytes=row_bytes * rereads * hit + vectors * row_bytes,
        instructions=trips * sum(per_thread * (i + 1 / vec) for i in sweep_instr) + 20,
        inflight=block * 4 * prefetch,
        chain_cycles=chain,
    )
    return stream_us(launch), (block, warps, stages)


def layernorm_tiled(cfg: Mapping, sizes: Mapping) -> Modelled:
    rows, cols = int(sizes["rows"]), int(sizes["cols"])
    return _tiled(
        cfg["BLOCK_N"], cfg["num_warps"], 1, rows, cols, sweep_instr=(2, 3, 6), vectors=2, reductions=2
    )


def rmsnorm_tiled(cfg: Mapping, sizes: Mapping) -> Modelled:
    rows, cols = int(sizes["rows"]), int(sizes["cols"])
    return _tiled(
        cfg["BLOCK_N"], cfg["num_warps"], 1, rows, cols, sweep_instr=(2, 4), vectors=1, reductions=1
    )


def softmax_online(cfg: Mapping, sizes: Mapping) -> Modelled:
    rows, cols = int(sizes["rows"]), int(sizes["cols"])
    return _tiled(
        cfg["BLOCK_N"],
        cfg["num_warps"],
        cfg["num_stages"],
        rows,
        cols,
        sweep_instr=(14, 6),
        vectors=0,
        reductions=2,
    )


def cross_entropy_online(cfg: Mapping, sizes: Mapping) -> Modelled:
    rows, vocab = int(sizes["rows"]), int(sizes["vocab"])
    rows_us, key = _tiled(
        cfg["BLOCK_V"],
        cfg["num_warps"],
        cfg["num_stages"],
        rows,
        vocab,
        sweep_instr=(14,),
        vectors=0,
        reductions=2,
        extra_chain=2 * H100.dram_latency,  # the target index, then its logit
        out_bytes_per_row=4,
    )
    if rows_us is None:
        return None, key
    # The mean: one program walks the per-row losses in 1024-wide steps; config-independent.
    mean_us = H100.launch_us + cdiv(rows, 1024) * H100.l2_latency / H100.clock_hz * 1e6
    return rows_us + mean_us, key


# --- tensor-core kernels (matmul) -------------------------------------------------------------


def _dtype(sizes: Mapping) -> tuple[int, float, bool]:
    """Bytes per element, tensor-core FLOP/s, and whether it is fp32 (tf32x3, halved BLOCK_K)."""
    fp32 = sizes.get("dtype", "float32") == "float32"
    return (4, H100.tc_flops_tf32 / 3, True) if fp32 else (2, H100.tc_flops_16bit, False)


def dot_us(
    m: int, n: int, k: int, bm: int, bn: int, bk: int, warps: int, stages: int, split: int, sizes: Mapping
) -> float | None:
    """The main launch of a tiled (``split`` = 1) or split-K matmul."""
    elt, flops_s, _ = _dtype(sizes)
    smem = stages * (bm + bn) * bk * elt
    threads = 32 * warps
    registers = bm * bn / threads + 40 + (0 if warps >= 4 else (bm + bn) * bk * elt / 4 / threads)
    occ = occupancy(warps, registers, smem)
    if occ is None:
        return None
    tiles_m, tiles_n = cdiv(m, bm), cdiv(n, bn)
    programs = tiles_m * tiles_n * split
    steps = cdiv(cdiv(k, split), bk)
    per_cycle = flops_s / (H100.sms * H100.clock_hz)
    groups = max(1.0, warps / 4)
    mma = (1 - 0.5 * math.exp(-(bm * bn / groups) / 4096)) * (1.0 if warps >= 4 else 0.6)
    compute = 2 * bm * bn * bk / (per_cycle * mma)
    loads = (bm + bn) * bk * elt / H100.l2_to_sm_bytes_cycle
    spill = 1 + 2 * occ.spilled / max(registers, 1.0)

    def wave_s(count: int) -> float:
        per_sm = math.ceil(count / H100.sms)
        step = max(compute, loads, H100.dram_latency / (per_sm * max(1, stages - 1)))
        epilogue = bm * bn * (4 if split > 1 else elt) / H100.l2_to_sm_bytes_cycle
        return (per_sm * (steps * step * spill + epilogue) + H100.dram_latency) / H100.clock_hz

    slots = H100.sms * occ.resident
    full, rest = divmod(programs, slots)
    waves = full * wave_s(slots) + (wave_s(rest) if rest else 0.0)
    out_elt = 4 if split > 1 else elt
    dram = m * k * elt * max(1.0, tiles_n / 8) + k * n * elt * max(1.0, tiles_m / 8) + m * n * out_elt * split
    floor = dram / (H100.hbm_bytes_s * H100.hbm_reachable)
    return smax(waves, floor) * 1e6 + H100.launch_us


def matmul_tiled(cfg: Mapping, sizes: Mapping) -> Modelled:
    m, n, k = int(sizes["m"]), int(sizes["n"]), int(sizes["k"])
    fp32 = _dtype(sizes)[2]
    bk = int(cfg["BLOCK_K"]) // 2 if fp32 else int(cfg["BLOCK_K"])
    bm, bn = int(cfg["BLOCK_M"]), int(cfg["BLOCK_N"])
    warps, stages = int(cfg["num_warps"]), int(cfg["num_stages"])
    return dot_us(m, n, k, bm, bn, bk, warps, stages, 1, sizes), (bm, bn, bk, warps, stages)


def matmul_splitk(cfg: Mapping, sizes: Mapping) -> Modelled:
    m, n, k = int(sizes["m"]), int(sizes["n"]), int(sizes["k"])
    elt, _, fp32 = _dtype(sizes)
    bk = 32 if fp32 else 64  # the family's BLOCK_K_16BIT, halved for fp32
    block, warps, stages = int(cfg["BLOCK_MN"]), int(cfg["num_warps"]), int(cfg["num_stages"])
    k_per_split = cdiv(cdiv(k, int(cfg["SPLIT_K"])), bk) * bk
    split = cdiv(k, k_per_split)  # the family drops slices that rounding left empty
    key = (block, warps, stages, split)
    main = dot_us(m, n, k, block, block, bk, warps, stages, split, sizes)
    if main is None:
        return None, key
    reduce = Stream(  # splitk_reduce_kernel: 1024 outputs per program, 4 warps
        programs=cdiv(m * n, 1024),
        warps=4,
        registers=24 + 8 * 2,
        dram_bytes=1024 * (split * 4 + elt),
        instructions=8 * (split * 2 + 2),
        inflight=1024 * 4 * split,
        chain_cycles=split * H100.dram_latency / 2 + 200,
    )
    reduce_us = stream_us(reduce)
    return (None if reduce_us is None else main + reduce_us), key


MODELS: dict[str, Callable[[Mapping, Mapping], Modelled]] = {
    "bias_gelu/triton_flat": bias_gelu_flat,
    "bias_gelu/triton_tiled2d": bias_gelu_tiled2d,
    "cross_entropy/triton_online": cross_entropy_online,
    "layernorm/triton_rowwise": layernorm_rowwise,
    "layernorm/triton_tiled": layernorm_tiled,
    "matmul/triton_splitk": matmul_splitk,
    "matmul/triton_tiled": matmul_tiled,
    "rmsnorm/triton_rowwise": rmsnorm_rowwise,
    "rmsnorm/triton_tiled": rmsnorm_tiled,
    "softmax/triton_online": softmax_online,
    "softmax/triton_rowwise": softmax_rowwise,
}

# Wider spaces on the same model, labelled synthetic: no family declares them. Values ascend, the
# first is the default, as in the built-in spaces.
SYNTHETIC: dict[str, tuple[str, ConfigSpace]] = {
    "matmul/tiled_wide": (
        "matmul/triton_tiled",
        {
            "BLOCK_M": [32, 64, 128, 256],
            "BLOCK_N": [32, 64, 128, 256],
            "BLOCK_K": [32, 64, 128],
            "num_warps": [4, 8],
            "num_stages": [2, 3, 4, 5],
        },
    ),
    "softmax/online_wide": (
        "softmax/triton_online",
        {
            "BLOCK_N": [256, 512, 1024, 2048, 4096, 8192, 16384],
            "num_warps": [1, 2, 4, 8, 16, 32],
            "num_stages": [1, 2, 3, 4],
        },
    ),
    "matmul/splitk_wide": (
        "matmul/triton_splitk",
        {
            "SPLIT_K": [1, 2, 4, 8, 16, 32],
            "BLOCK_MN": [32, 64, 128, 256],
            "num_warps": [4, 8],
            "num_stages": [2, 3, 4],
        },
    ),
}


# --- landscapes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Landscape:
    """One space, every point evaluated: the EvalResult the tuner is told for each config."""

    name: str
    kind: str  # "built-in" or "synthetic"
    space: ConfigSpace
    results: dict[Config, EvalResult]

    @property
    def size(self) -> int:
        return space_size(self.space)

    @property
    def best_us(self) -> float:
        return min(r.latency_us for r in self.results.values() if r.latency_us is not None)

    def best_config(self) -> Config:
        return min(
            (c for c, r in self.results.items() if r.latency_us is not None),
            key=lambda c: self.results[c].latency_us or math.inf,
        )

    def count_within(self, limit: float) -> int:
        return sum(1 for r in self.results.values() if r.latency_us is not None and r.latency_us <= limit)


def evaluate(
    name: str,
    model: Callable[[Mapping, Mapping], Modelled],
    config: Config,
    shapes: Iterable[Shape],
    noise: float,
    landscape_seed: int,
) -> EvalResult:
    """The modelled EvalResult of one config: one ShapeMetrics per shape, or a launch failure."""
    metrics = []
    for shape in shapes:
        latency, key = model(config.as_dict(), shape.sizes)
        if latency is None:
            return EvalResult(
                Status.RUNTIME_ERROR,
                Stage.CORRECTNESS,
                f"modelled launch failure on {shape.name}: out of shared memory",
            )
        factor = random.Random(f"{landscape_seed}|{name}|{shape.name}|{key}").lognormvariate(0.0, noise)
        metrics.append(
            ShapeMetrics(shape.name, median_us=latency * factor, samples=100, timing_method="modelled")
        )
    return EvalResult(Status.OK, Stage.DONE, "modelled latency, not measured", shapes=tuple(metrics))


def build_landscape(
    name: str,
    kind: str,
    model_name: str,
    space: ConfigSpace,
    shapes: tuple[Shape, ...],
    noise: float,
    seed: int,
) -> Landscape:
    model = MODELS[model_name]
    results = {c: evaluate(name, model, c, shapes, noise, seed) for c in enumerate_space(space)}
    return Landscape(name, kind, space, results)


def landscapes(noise: float, seed: int) -> list[Landscape]:
    """Every built-in Triton family's declared space, then the synthetic ones."""
    built: list[Landscape] = []
    shapes: dict[str, tuple[Shape, ...]] = {}
    for name in sorted(MODELS):
        problem_name, family_name = name.split("/")
        problem = load_problem(problem_name)
        shapes[problem_name] = problem.shapes_for("cuda")
        family = next(f for f in load_families(problem) if f.name == family_name)
        assert family.language is Language.TRITON, name
        built.append(
            build_landscape(name, "built-in", name, family.config_space, shapes[problem_name], noise, seed)
        )
    for name, (model_name, space) in SYNTHETIC.items():
        problem_shapes = shapes[model_name.split("/")[0]]
        built.append(build_landscape(name, "synthetic", model_name, space, problem_shapes, noise, seed))
    return built


# --- search -----------------------------------------------------------------------------------


class RandomSearch:
    """Plain config search: every config once, in a seeded uniformly random order (a Tuner)."""

    def __init__(self, space: ConfigSpace, seed: int) -> None:
        self._order = list(enumerate_space(space))
        random.Random(seed).shuffle(self._order)
        self._seen: set[Config] = set()

    def ask(self) -> Config | None:
        while self._order:
            config = self._order.pop(0)
            if config not in self._seen:
                self._seen.add(config)
                return config
        return None

    def tell(self, config: Config, result: EvalResult) -> None:
        self._seen.add(config)


def evaluations_to(
    tuner: Tuner, results: Mapping[Config, EvalResult], limits: Mapping[str, float], cap: int
) -> dict[str, int | None]:
    """Ask, evaluate, tell, until every latency limit is met or ``cap`` evaluations are spent.

    Returns, per limit, the evaluation (1-based, failures included) whose latency first met it;
    None where it was never met (the tuner gave up, or the cap was reached).
    """
    reached: dict[str, int | None] = dict.fromkeys(limits)
    evaluations = 0
    while evaluations < cap and any(v is None for v in reached.values()):
        config = tuner.ask()
        if config is None:
            break
        result = results[config]
        tuner.tell(config, result)
        evaluations += 1
        latency = result.latency_us
        for name, limit in limits.items():
            if reached[name] is None and latency is not None and latency <= limit:
                reached[name] = evaluations
    return reached


def summarize(counts: list[int | None]) -> dict[str, float | int | None]:
    """Median and p90 (nearest rank) of evaluation counts; a trial that never got there counts as
    infinite, and a statistic that lands on one is None."""
    values = sorted(math.inf if c is None else float(c) for c in counts)
    median = statistics.median(values)
    p90 = values[max(0, math.ceil(0.9 * len(values)) - 1)]
    return {
        "median": None if math.isinf(median) else median,
        "p90": None if math.isinf(p90) else p90,
        "mean": None if math.isinf(max(values)) else round(statistics.fmean(values), 2),
        "never": sum(1 for c in counts if c is None),
    }


TARGETS = {"best": 1.0 + 1e-9, "within_5pct": 1.05}


def search_space(land: Landscape, seeds: int) -> dict:
    """Every method on one landscape: two-level (make_tuner), random and the exhaustive grid."""
    best = land.best_us
    limits = {name: best * factor for name, factor in TARGETS.items()}
    cap = land.size
    two_level = [
        evaluations_to(make_tuner(land.space, seed=s), land.results, limits, cap) for s in range(seeds)
    ]
    plain = [
        evaluations_to(RandomSearch(land.space, 10_000 + s), land.results, limits, cap) for s in range(seeds)
    ]
    grid = evaluations_to(ExhaustiveTuner(land.space), land.results, limits, cap)
    tuner = type(make_tuner(land.space)).__name__
    figures: dict = {
        "space": land.name,
        "kind": land.kind,
        "points": land.size,
        "failing_points": sum(1 for r in land.results.values() if not r.ok),
        "tuner": tuner,
        "best_config": land.best_config().as_dict(),
        "best_us": round(best, 3),
    }
    for target, factor in TARGETS.items():
        hits = land.count_within(best * factor)
        two = summarize([t[target] for t in two_level])
        rnd = summarize([t[target] for t in plain])
        ratio = rnd["median"] / two["median"] if rnd["median"] and two["median"] else None
        figures[target] = {
            "qualifying_points": hits,
            "two_level": two,
            "random": rnd,
            "random_expected": round((land.size + 1) / (hits + 1), 2),  # first of `hits` in a shuffle
            "grid": grid[target],
            "ratio_random_over_two_level": None if ratio is None else round(ratio, 3),
        }
    if tuner == "ExhaustiveTuner":  # what TPE would have done below the exhaustive limit
        forced = [
            evaluations_to(make_tuner(land.space, seed=s, exhaustive_limit=0), land.results, limits, cap)
            for s in range(seeds)
        ]
        figures["tpe_forced"] = {target: summarize([t[target] for t in forced]) for target in TARGETS}
    return figures


# --- report -----------------------------------------------------------------------------------


def cell(summary: Mapping, expected: float | None = None) -> str:
    """``median / p90``, and for random search the exact expectation ``(n + 1) / (k + 1)``."""

    def one(v: float | None) -> str:
        return "never" if v is None else f"{v:g}"

    text = f"{one(summary['median'])} / {one(summary['p90'])}"
    return text if expected is None else f"{text} (E {expected:g})"


def geomean(values: list[float]) -> float | None:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def table_for(spaces: list[dict], target: str, title: str, seeds: int) -> Table:
    """One target's figures, a row per space."""
    table = Table(title=f"{title} (median / p90 of {seeds} seeds): MODELLED H100 latency, not measured")
    for column in ("space", "kind", "points", "tuner", "qualifying"):
        table.add_column(column)
    for column in ("two-level", "random (E exact)", "grid", "random / two-level"):
        table.add_column(column, justify="right")
    for s in spaces:
        figures = s[target]
        ratio = figures["ratio_random_over_two_level"]
        table.add_row(
            s["space"],
            s["kind"],
            str(s["points"]),
            "TPE" if s["tuner"] == "OptunaTuner" else "exhaustive",
            str(figures["qualifying_points"]),
            cell(figures["two_level"]),
            cell(figures["random"], figures["random_expected"]),
            "never" if figures["grid"] is None else str(figures["grid"]),
            "-" if ratio is None else f"{ratio:.2f}x",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.03, help="lognormal sigma of the per-launch noise")
    parser.add_argument("--landscape-seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    lands = landscapes(args.noise, args.landscape_seed)
    built_s = time.perf_counter() - started
    spaces = [search_space(land, args.seeds) for land in lands]
    wall_s = time.perf_counter() - started

    console = Console(width=160)
    for target, title in (("best", "the best config"), ("within_5pct", "within 5% of the best")):
        console.print(table_for(spaces, target, f"Evaluations to reach {title}", args.seeds))

    summary = {}
    for group, chosen in (
        ("tpe_spaces", [s for s in spaces if s["tuner"] == "OptunaTuner"]),
        ("all_spaces", spaces),
    ):
        summary[group] = {
            target: geomean(
                [
                    s[target]["ratio_random_over_two_level"]
                    for s in chosen
                    if s[target]["ratio_random_over_two_level"] is not None
                ]
            )
            for target in TARGETS
        }
    figures = summary["tpe_spaces"]
    print(
        "random / two-level, geometric mean over the spaces TPE tunes (> 32 points): "
        f"{figures['best'] or math.nan:.2f}x to the best, "
        f"{figures['within_5pct'] or math.nan:.2f}x to within 5%"
    )
    print(
        "On spaces of at most 32 points the two-level search is the grid walk, so its count is where the "
        "modelled best sits in declaration order; random's E is the exact expectation."
    )
    print(
        f"landscapes {built_s:.1f} s, searches {wall_s - built_s:.1f} s; latencies are modelled, not measured"
    )

    append_run(
        result_path("config_search", "cpu"),
        {
            "benchmark": "config_search",
            "command": "python benchmarks/config_search.py",
            "landscape": "modelled latency, not measured: analytic H100 SXM5 model in the module docstring",
        },
        {
            "commit": commit(),
            "machine": platform.processor() or platform.machine(),
            "args": vars(args),
            "device_model": H100.name,
            "wall_s": round(wall_s, 1),
            "geomean_ratio_random_over_two_level": {
                g: {t: None if v is None else round(v, 3) for t, v in f.items()} for g, f in summary.items()
            },
            "spaces": spaces,
        },
    )


if __name__ == "__main__":
    main()
