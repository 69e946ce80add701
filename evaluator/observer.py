"""The parent's side of a candidate child: every message checked, every output compared here.

The child is untrusted, so a message that is malformed or names a file the parent did not
expect is itself a verdict (``rejected``), never an exception in the evaluator.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from evaluator.checks.correctness import Comparison, compare_outputs, dtype_name, reference_scale
from evaluator.checks.probes import ProbeCall, drift_reason, probe_input_path, probe_output_name, reuse_reason
from evaluator.checks.spot_checks import compare_spots, draw_positions, positions_path, probe_positions_path
from evaluator.reference import ReferenceData, ReferenceTrial
from evaluator.timing.stats import TimingStats, too_many_cores
from evaluator.types import DeviceInfo, Profile, ProfileReport, Stage, Status
from evaluator.wire.deliveries import deliver, deliver_tensors
from evaluator.wire.messages import (
    ChildMessage,
    DeviceReport,
    Malformed,
    PositionsWanted,
    ProbePositionsWanted,
    ProbeTimed,
    ProbeWanted,
    ShapeProfiled,
    ShapeTimed,
    StageEntered,
    TimedOutputWritten,
    TrialWritten,
    Verdict,
)
from evaluator.wire.tensor_files import load_tensors
from kernels.problem import Tolerance


@dataclass
class CandidateObserver:
    """Accumulates what one candidate child reported; ``handle`` says when to stop listening."""

    reference: ReferenceData
    outputs_dir: Path
    tolerance: Callable[[str], Tolerance]
    # Where probe inputs are delivered when asked for; None: no probes (an interpreted candidate).
    probe_dir: Path | None = None
    # Deliver each probe as a hard link to the reference's file: the probe folder is read-only to
    # the candidate (Landlock). Otherwise a copy, which the candidate may scribble on.
    link_probes: bool = False
    # Where the positions to check in timed outputs are delivered (``evaluator.checks.spot_checks``).
    check_dir: Path | None = None
    # Keep each output file after its comparison; by default it is deleted once read, so a
    # candidate's directory never holds more than the outputs not yet compared (and a memory-backed
    # work root does not charge them all to the candidate's memory limit).
    keep_outputs: bool = False
    # On the CPU: the cores the candidate's timed calls may keep busy, as many as the reference
    # was given; None where that is not checked (on CUDA, and for interpreted Triton).
    allowed_cores: int | None = None
    device: DeviceInfo | None = None
    verdict: tuple[Status, str] | None = None
    comparisons: dict[str, list[Comparison]] = field(default_factory=dict)
    timed_checks: int = 0
    timed_sets: dict[str, set[int]] = field(default_factory=dict)  # input sets with a sampled check
    peaks: dict[str, int] = field(default_factory=dict)
    profiles: dict[str, ProfileReport] = field(default_factory=dict)
    probe_calls: dict[str, list[ProbeCall]] = field(default_factory=dict)
    # Shapes whose timed median the probe loops did not bear out (``evaluator.checks.probes.drift_reason``).
    drifts: dict[str, str] = field(default_factory=dict)
    # Shapes whose timed calls kept more cores busy than the reference had (``too_many_cores``).
    crowded: dict[str, str] = field(default_factory=dict)
    # Shapes whose every probe was far slower than its loop (``reuse_reason``): a verdict once seen
    # again in a fresh process, since a busy machine can slow three single calls in a row too.
    reused: dict[str, str] = field(default_factory=dict)
    _figures: dict[str, list[TimingStats]] = field(default_factory=dict, repr=False)
    done: bool = False
    _positions: dict[str, dict[int, list[torch.Tensor]]] = field(default_factory=dict, repr=False)
    _probe_positions: dict[tuple[str, int], list[torch.Tensor]] = field(default_factory=dict, repr=False)
    _delivered_probes: set[tuple[str, int]] = field(default_factory=set, repr=False)
    # Seeded from the OS, so nothing the candidate can read predicts the positions.
    _draws: torch.Generator = field(
        default_factory=lambda: torch.Generator().manual_seed(secrets.randbits(63)), repr=False
    )
    _seen: set[tuple[str, ...]] = field(default_factory=set, repr=False)  # once-keys received

    def handle(self, message: ChildMessage | Malformed) -> bool:
        """Process one message; True once a verdict is known and the child can be stopped."""
        if isinstance(message, Malformed):
            self.verdict = (Status.REJECTED, f"sent a malformed {message.kind!r} message ({message.error})")
            return True
        key = message.once_key()
        if key is not None and key in self._seen:
            # The harness sends each of these once: a second one means candidate code wrote to
            # the pipe (to be handed the probes' inputs early, say), and the harness's own
            # message arrives after it.
            self.verdict = (Status.REJECTED, f"sent {message.KIND} {key[1:]} twice: forged messages")
            return True
        if key is not None:
            self._seen.add(key)
        try:
            self._receive(message)
        except (KeyError, IndexError, ValueError) as exc:
            self.verdict = (Status.REJECTED, f"sent a {message.KIND!r} message out of turn ({exc})"[:300])
        return self.verdict is not None

    @functools.singledispatchmethod
    def _receive(self, message: ChildMessage) -> None:
        """Messages no candidate's parent acts on (a reference's ``error``) are ignored."""

    @_receive.register
    def _on_device(self, message: DeviceReport) -> None:
        self.device = message.info

    @_receive.register
    def _on_verdict(self, message: Verdict) -> None:
        self.verdict = (message.status, message.reason)

    @_receive.register
    def _on_stage(self, message: StageEntered) -> None:
        self.done = self.done or message.stage is Stage.DONE

    @_receive.register
    def _on_trial(self, message: TrialWritten) -> None:
        shape, index = message.shape, message.index
        comparison = self._compare(shape, index, self.outputs_dir / f"out_{shape}_{index}.pt")
        self.comparisons.setdefault(shape, []).append(comparison)
        self.peaks[shape] = max(self.peaks.get(shape, 0), message.peak_mem_bytes or 0)
        if not comparison.ok:
            self.verdict = (Status.WRONG_OUTPUT, f"shape {shape} trial {index}: {comparison.reason}")

    @_receive.register
    def _on_positions_wanted(self, message: PositionsWanted) -> None:
        self._deliver_positions(message.shape)

    @_receive.register
    def _on_timed_output(self, message: TimedOutputWritten) -> None:
        shape, index, sample = message.shape, message.index, message.sample
        output = self.outputs_dir / f"timed_{shape}_{sample}.pt"
        comparison = self._compare_spots(self._trial(shape, index), self._positions[shape][index], output)
        self.timed_checks += 1
        if sample >= 0:
            self.timed_sets.setdefault(shape, set()).add(index)
        if not comparison.ok:
            call = f"timed call {sample}" if sample >= 0 else "the CUDA-graph replay"
            self.verdict = (
                Status.WRONG_OUTPUT,
                f"shape {shape}: {call} returned a wrong result: {comparison.reason}",
            )

    @_receive.register
    def _on_timed(self, message: ShapeTimed) -> None:
        # The reported figure; the reference keeps its others for candidates that fall back.
        if not message.figures:
            raise ValueError("no figures")
        self._figures[message.shape] = list(message.figures)
        stats = message.figures[0]
        crowded = too_many_cores(message.shape, stats, self.allowed_cores) if self.allowed_cores else None
        if crowded:  # measured again in a fresh process before it is a verdict (Evaluator.evaluate)
            self.crowded[message.shape] = crowded

    @_receive.register
    def _on_profiled(self, message: ShapeProfiled) -> None:
        self.profiles[message.shape] = message.report

    @_receive.register
    def _on_probe_wanted(self, message: ProbeWanted) -> None:
        probe = self._probe(message.shape, message.probe)
        target = probe_input_path(self._probe_dir(), probe.shape, message.probe)
        deliver(probe.inputs_path, target, link=self.link_probes)
        self._delivered_probes.add((probe.shape, message.probe))

    @_receive.register
    def _on_probe_positions_wanted(self, message: ProbePositionsWanted) -> None:
        self._deliver_probe_positions(self._probe(message.shape, message.probe), message.probe)

    @_receive.register
    def _on_probe_timed(self, message: ProbeTimed) -> None:
        probe, index = self._probe(message.shape, message.probe), message.probe
        if not self.keep_outputs:  # loaded by now; a copy of the reference's, so never needed again
            probe_input_path(self._probe_dir(), probe.shape, index).unlink(missing_ok=True)
        measured = ProbeCall(
            message.call_us,
            message.local_median_us,
            message.method,
            message.call_cpu_us,
            message.local_cpu_median_us,
        )
        self._check_probe(probe, index, measured)

    @property
    def timings(self) -> dict[str, TimingStats]:
        """Each timed shape's reported figure."""
        return {shape: figures[0] for shape, figures in self._figures.items()}

    def _probe_dir(self) -> Path:
        if self.probe_dir is None:
            raise ValueError("no probes were asked of this candidate")
        return self.probe_dir

    def _probe(self, shape: str, index: int) -> ReferenceTrial:
        probes = self.reference.probes_for(shape)
        if self.probe_dir is None or not 0 <= index < len(probes):
            raise ValueError(f"unknown probe {shape}/{index}")
        self._require_checked_and_timed(shape, f"probe {shape}/{index}")
        return probes[index]

    def _require_checked_and_timed(self, shape: str, what: str) -> None:
        """What the child is handed after a shape's trials and timing only, so never sooner."""
        trials_done = len(self.comparisons.get(shape, [])) >= len(self.reference.trials_for(shape))
        if shape not in self._figures or not trials_done:
            raise ValueError(f"{what} asked for before the shape was checked and timed")

    def _deliver_positions(self, shape: str) -> None:
        """Draw now, after the shape's timed calls, the positions its timed outputs are checked at."""
        if self.check_dir is None:
            raise ValueError("no checked positions were offered to this candidate")
        self._require_checked_and_timed(shape, f"positions for {shape}")
        trials = self.reference.trials_for(shape)
        drawn = {t.index: draw_positions(self._expected_of(t), self._draws) for t in trials}
        self._positions[shape] = drawn
        deliver_tensors([drawn[t.index] for t in trials], positions_path(self.check_dir, shape))

    def _deliver_probe_positions(self, probe: ReferenceTrial, index: int) -> None:
        """Positions for a probe's output, drawn once the child has had the probe and called on it."""
        if self.check_dir is None or (probe.shape, index) not in self._delivered_probes:
            raise ValueError(f"positions for probe {probe.shape}/{index} asked for before its inputs")
        drawn = draw_positions(self._expected_of(probe), self._draws)
        self._probe_positions[(probe.shape, index)] = drawn
        deliver_tensors(drawn, probe_positions_path(self.check_dir, probe.shape, index))

    def _check_probe(self, probe: ReferenceTrial, index: int, call: ProbeCall) -> None:
        output = self.outputs_dir / probe_output_name(probe.shape, index)
        comparison = self._compare_spots(probe, self._probe_positions[(probe.shape, index)], output)
        if not comparison.ok:
            reason = f"shape {probe.shape}: on inputs it had never seen: {comparison.reason}"
            self.verdict = (Status.WRONG_OUTPUT, reason)
            return
        calls = self.probe_calls.setdefault(probe.shape, [])
        calls.append(call)
        if len(calls) < len(self.reference.probes_for(probe.shape)):
            return
        reused = reuse_reason(probe.shape, calls)
        if reused:
            self.reused[probe.shape] = reused
            return
        timed = next((f for f in self._figures.get(probe.shape, []) if f.method == call.method), None)
        drift = drift_reason(probe.shape, timed.median_us, calls) if timed else None
        if drift:
            self.drifts[probe.shape] = drift

    def _compare(self, shape: str, index: int, output_path: Path) -> Comparison:
        """Compare a file the parent chose the name of with the reference's expected output."""
        return self._compare_with(self._trial(shape, index), output_path)

    def _trial(self, shape: str, index: int) -> ReferenceTrial:
        trial = next((t for t in self.reference.trials if t.shape == shape and t.index == index), None)
        if trial is None:
            raise ValueError(f"unknown trial {shape}/{index}")
        return trial

    def _compare_spots(
        self, trial: ReferenceTrial, positions: list[torch.Tensor], output_path: Path
    ) -> Comparison:
        """An output's values at the positions delivered for it, against the reference's there."""
        actual = self._read(output_path)
        if isinstance(actual, Comparison):
            return actual
        expected = self._expected_of(trial)
        scales = trial.scales or [reference_scale(t) for t in expected]
        tolerances = self._tolerances(expected)
        return _guarded(lambda: compare_spots(expected, actual, positions, tolerances, scales))

    def _compare_with(self, trial: ReferenceTrial, output_path: Path) -> Comparison:
        actual = self._read(output_path)
        if isinstance(actual, Comparison):
            return actual
        expected = self._expected_of(trial)
        return _guarded(lambda: compare_outputs(expected, actual, self._tolerances(expected)))

    def _read(self, output_path: Path) -> list[Any] | Comparison:
        """The list a child wrote (deleted once read, unless kept), or the failure to read one."""
        try:
            actual = load_tensors(output_path)
        except Exception as exc:  # written by the candidate's process: anything may be there
            return Comparison(
                False, f"its output file could not be read as plain tensors ({type(exc).__name__})"
            )
        finally:
            if not self.keep_outputs:
                output_path.unlink(missing_ok=True)
        if not isinstance(actual, list):
            return Comparison(False, "its output file does not hold a list")
        return actual

    def _expected_of(self, trial: ReferenceTrial) -> list[Any]:
        return self.reference.expected_of(trial)

    def _tolerances(self, expected: list[Any]) -> dict[str, Tolerance]:
        return {dtype_name(t.dtype): self.tolerance(dtype_name(t.dtype)) for t in expected}

    def profile(self) -> Profile | None:
        """Per-shape reports, and the largest shape's one-line summary for prompts."""
        if not self.profiles:
            return None
        last = list(self.profiles)[-1]
        return Profile(summary=f"{last}: {self.profiles[last].summary}", shapes=dict(self.profiles))

    def missing_results(self) -> list[str]:
        """Shapes whose trials, timings, checked timed outputs or probes never arrived, though the
        child said it was done."""
        missing = [
            t.shape for t in self.reference.trials if len(self.comparisons.get(t.shape, [])) <= t.index
        ]
        missing += [s.name for s in self.reference.shapes if s.name not in self.timings]
        # The harness checks a timed output of every input set it sampled: none missing means
        # no part of it was switched off.
        missing += [
            s.name
            for s in self.reference.shapes
            if s.name in self.timings
            and len(self.timed_sets.get(s.name, ()))
            < min(len(self.reference.trials_for(s.name)), self.timings[s.name].samples)
        ]
        if self.probe_dir is not None:
            missing += [
                s.name
                for s in self.reference.shapes
                if len(self.probe_calls.get(s.name, [])) < len(self.reference.probes_for(s.name))
            ]
        return sorted(set(missing))


def _guarded(compare: Callable[[], Comparison]) -> Comparison:
    """A comparison of what a candidate's process wrote; whatever that holds, a failed check, never
    an exception in the evaluator."""
    try:
        return compare()
    except Exception as exc:  # the file's contents are the candidate's to choose
        return Comparison(False, f"its output could not be compared ({type(exc).__name__}: {exc})"[:400])
