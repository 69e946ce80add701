"""The evaluator's side of a child: what it hands over, and when (``evaluator.observer``)."""

from __future__ import annotations

from pathlib import Path

import torch

from evaluator.checks.probes import ProbeCall
from evaluator.checks.spot_checks import gather_spots, positions_path, probe_positions_path
from evaluator.observer import CandidateObserver
from evaluator.reference import ReferenceData, ReferenceTrial
from evaluator.timing.stats import TimingStats
from evaluator.types import DeviceInfo, Status
from evaluator.wire.messages import (
    Malformed,
    PositionsWanted,
    ProbePositionsWanted,
    ProbeTimed,
    ProbeWanted,
    ShapeTimed,
    TimedOutputWritten,
    TrialWritten,
    parse_message,
)
from evaluator.wire.tensor_files import load_tensors, save_tensors
from kernels.problem import Shape, Tolerance

TRIALS = 3


def observer_for(tmp_path: Path, probes: bool = True) -> CandidateObserver:
    """A reference of one shape with three trials and one probe whose expected outputs are
    10 x 10 of 0, 1, 2 and 3."""
    ref_dir, outputs = tmp_path / "ref", tmp_path / "outputs"
    checks, probe_dir = tmp_path / "checks", tmp_path / "probe"
    for directory in (ref_dir, outputs, checks, probe_dir):
        directory.mkdir(parents=True)
    trials, expected = [], {}
    for index in range(TRIALS + 1):
        inputs = ref_dir / f"inputs_a_{index}.pt"
        expected[("a", index)] = [torch.full((10, 10), float(index))]
        save_tensors([torch.zeros(1)], inputs)
        trials.append(ReferenceTrial("a", index, inputs, (1.0,)))
    reference = ReferenceData(
        directory=ref_dir,
        device=DeviceInfo("cpu", "cpu", "test", None, torch.__version__, None),
        shapes=(Shape("a"),),
        trials=tuple(trials[:TRIALS]),
        probes=tuple(trials[TRIALS:]),
        timings={"a": TimingStats(5.0, 0.1, 30, "cpu_perf_counter")},
        peak_mem_bytes={},
        init_inputs_path=ref_dir / "init_inputs.pt",
        model_seed=1,
        expected=expected,
    )
    return CandidateObserver(
        reference,
        outputs,
        lambda _: Tolerance(1e-5, 1e-5),
        probe_dir=probe_dir if probes else None,
        check_dir=checks,
    )


def run_trials_and_timing(observer: CandidateObserver) -> None:
    for index in range(TRIALS):
        save_tensors([torch.full((10, 10), float(index))], observer.outputs_dir / f"out_a_{index}.pt")
        assert not observer.handle(TrialWritten("a", index))
    assert not observer.handle(ShapeTimed("a", (TimingStats(5.0, 0.1, 30, "cpu_perf_counter"),)))


def send_timed_output(observer: CandidateObserver, index: int, value: float) -> bool:
    assert observer.check_dir is not None
    positions = load_tensors(positions_path(observer.check_dir, "a"))[index]
    spots = gather_spots([torch.full((10, 10), value)], positions)
    save_tensors(spots, observer.outputs_dir / f"timed_a_{10 + index}.pt")
    path = observer.outputs_dir / f"timed_a_{10 + index}.pt"
    return observer.handle(TimedOutputWritten("a", index, 10 + index, str(path)))


def test_positions_asked_for_before_the_shape_was_timed_are_refused(tmp_path: Path) -> None:
    observer = observer_for(tmp_path)
    assert observer.handle(PositionsWanted("a"))
    assert observer.verdict is not None and observer.verdict[0] is Status.REJECTED
    assert observer.check_dir is not None and not positions_path(observer.check_dir, "a").exists()


def test_positions_are_delivered_once_and_timed_outputs_are_checked_at_them(tmp_path: Path) -> None:
    observer = observer_for(tmp_path, probes=False)
    run_trials_and_timing(observer)
    assert not observer.handle(PositionsWanted("a"))
    assert not send_timed_output(observer, 0, 0.0)
    assert not send_timed_output(observer, 1, 1.0)
    assert observer.missing_results() == ["a"]  # input set 2 was sampled but never checked
    assert not send_timed_output(observer, 2, 2.0)
    assert observer.missing_results() == []
    assert observer.timed_checks == TRIALS
    assert not list(observer.outputs_dir.iterdir())  # every output file deleted once compared
    assert observer.handle(PositionsWanted("a"))  # a second request is forged
    assert observer.verdict is not None and "twice" in observer.verdict[1]


def test_a_wrong_timed_output_is_a_wrong_output(tmp_path: Path) -> None:
    observer = observer_for(tmp_path)
    run_trials_and_timing(observer)
    observer.handle(PositionsWanted("a"))
    assert send_timed_output(observer, 1, 0.0)  # input set 1's answer is all ones
    assert observer.verdict is not None and observer.verdict[0] is Status.WRONG_OUTPUT
    assert "timed call 11 returned a wrong result" in observer.verdict[1]


def test_a_file_of_tensors_without_values_is_a_wrong_output_not_an_evaluator_error(tmp_path: Path) -> None:
    observer = observer_for(tmp_path)
    save_tensors([torch.empty(10, 10, device="meta")], observer.outputs_dir / "out_a_0.pt")
    assert observer.handle(TrialWritten("a", 0))
    assert observer.verdict is not None and observer.verdict[0] is Status.WRONG_OUTPUT
    assert "on meta, not a dense one" in observer.verdict[1]


def send_probe(observer: CandidateObserver, value: float, call_us: float) -> bool:
    assert observer.check_dir is not None
    positions = load_tensors(probe_positions_path(observer.check_dir, "a", 0))
    save_tensors(
        gather_spots([torch.full((10, 10), value)], positions), observer.outputs_dir / "probe_a_0.pt"
    )
    return observer.handle(ProbeTimed("a", 0, call_us, 5.5, "cpu_perf_counter"))


def test_a_probe_is_checked_at_positions_drawn_after_its_call(tmp_path: Path) -> None:
    observer = observer_for(tmp_path)
    run_trials_and_timing(observer)
    assert not observer.handle(ProbeWanted("a", 0))
    assert observer.probe_dir is not None and (observer.probe_dir / "inputs_a_0.pt").exists()
    assert not observer.handle(ProbePositionsWanted("a", 0))
    assert not send_probe(observer, 3.0, call_us=6.0)
    assert observer.verdict is None
    assert observer.probe_calls == {"a": [ProbeCall(6.0, 5.5, "cpu_perf_counter")]}


def test_probe_positions_before_the_probe_and_a_wrong_probe_answer_are_caught(tmp_path: Path) -> None:
    early = observer_for(tmp_path / "early")
    run_trials_and_timing(early)
    assert early.handle(ProbePositionsWanted("a", 0))
    assert early.verdict is not None and early.verdict[0] is Status.REJECTED
    wrong = observer_for(tmp_path / "wrong")
    run_trials_and_timing(wrong)
    wrong.handle(ProbeWanted("a", 0))
    wrong.handle(ProbePositionsWanted("a", 0))
    assert send_probe(wrong, 2.0, call_us=6.0)  # the last trial's answer: a result kept by content
    assert wrong.verdict is not None and wrong.verdict[0] is Status.WRONG_OUTPUT
    assert "never seen" in wrong.verdict[1]


def test_a_known_message_with_the_wrong_fields_is_a_rejection(tmp_path: Path) -> None:
    observer = observer_for(tmp_path)
    message = parse_message(b'{"event": "trial", "shape": "a", "index": "first"}')
    assert isinstance(message, Malformed) and message.kind == "trial" and "index" in message.error
    assert observer.handle(message)
    assert observer.verdict is not None and observer.verdict[0] is Status.REJECTED
    assert "malformed 'trial' message" in observer.verdict[1]


def test_lines_that_are_not_messages_are_noise_not_verdicts() -> None:
    for line in (b"not json", b"[1, 2]", b'{"no": "event"}', b'{"event": "unheard_of"}', b'{"event": 3}'):
        assert parse_message(line) is None, line
