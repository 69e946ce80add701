"""What a child tells the evaluator: one frozen dataclass per message, as JSON lines on a pipe.

The pipe is the child's own descriptor, so nothing a candidate prints on stdout can pass for a
message; but candidate code runs in that process and can write to the pipe too. So the parent
decodes every line into its type, with its fields validated (``parse_message``): a line that
names a known message with the wrong fields is ``Malformed``, which the receiver turns into a
verdict, never an exception. ``ONCE`` names the fields that tell apart messages the harness sends
once each, so a forged second one is recognized (``evaluator.observer``).

The child only encodes (``Channel.send``), with the standard library alone: the validation, and
pydantic with it, stays in the parent.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from evaluator.timing.stats import TimingStats
from evaluator.types import DeviceInfo, ProfileReport, Stage, Status


class ChildMessage:
    """What every message is: ``KIND`` is its name on the wire."""

    KIND: ClassVar[str]
    # The fields that identify a message the harness sends once per value of them; None: any number.
    ONCE: ClassVar[tuple[str, ...] | None] = None

    def once_key(self) -> tuple[str, ...] | None:
        if self.ONCE is None:
            return None
        return (self.KIND, *(str(getattr(self, name)) for name in self.ONCE))


@dataclass(frozen=True)
class DeviceReport(ChildMessage):
    KIND = "device"
    ONCE = ()
    info: DeviceInfo


@dataclass(frozen=True)
class StageEntered(ChildMessage):
    """The child moved on to ``stage``; ``DONE`` ends it. ``deferred``: why pre-flight left the
    verdict to the device."""

    KIND = "stage"
    ONCE = ("stage",)
    stage: Stage
    deferred: str | None = None


@dataclass(frozen=True)
class Verdict(ChildMessage):
    KIND = "verdict"
    status: Status
    reason: str = ""
    traceback: str = ""


@dataclass(frozen=True)
class ChildFailed(ChildMessage):
    """The reference's process failed (candidates' failures are verdicts)."""

    KIND = "error"
    reason: str
    traceback: str = ""


@dataclass(frozen=True)
class TrialWritten(ChildMessage):
    """A correctness call's outputs are in their file. ``scales`` come from the reference only."""

    KIND = "trial"
    ONCE = ("shape", "index")
    shape: str
    index: int
    peak_mem_bytes: int | None = None
    scales: tuple[float, ...] = ()


@dataclass(frozen=True)
class ShapeTimed(ChildMessage):
    """The figures of one shape, the reported one first, then those taken by other methods."""

    KIND = "timing"
    ONCE = ("shape",)
    shape: str
    figures: tuple[TimingStats, ...]


@dataclass(frozen=True)
class BaselineTimed(ChildMessage):
    """The reference's process timed ``torch.compile`` of the reference on one shape, or says why
    it could not (``error``); the figures are ordered as ``ShapeTimed``'s."""

    KIND = "baseline"
    ONCE = ("shape",)
    shape: str
    mode: str
    figures: tuple[TimingStats, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class ShapeProfiled(ChildMessage):
    KIND = "profile"
    shape: str
    report: ProfileReport


@dataclass(frozen=True)
class PositionsWanted(ChildMessage):
    """Asks for the positions at which a shape's kept timed outputs are checked."""

    KIND = "check_request"
    ONCE = ("shape",)
    shape: str


@dataclass(frozen=True)
class TimedOutputWritten(ChildMessage):
    """A kept timed output, gathered at its positions; ``sample`` -1: the CUDA-graph replay."""

    KIND = "timed_output"
    ONCE = ("shape", "sample")
    shape: str
    index: int
    sample: int
    path: str


@dataclass(frozen=True)
class ProbeWanted(ChildMessage):
    """Asks for the inputs of a probe, once the shape was checked and timed."""

    KIND = "probe_request"
    ONCE = ("shape", "probe")
    shape: str
    probe: int


@dataclass(frozen=True)
class ProbePositionsWanted(ChildMessage):
    KIND = "probe_check_request"
    ONCE = ("shape", "probe")
    shape: str
    probe: int


@dataclass(frozen=True)
class ProbeTimed(ChildMessage):
    """A probe call's time, its loop's median on seen inputs, and the method of both."""

    KIND = "probe"
    ONCE = ("shape", "probe")
    shape: str
    probe: int
    call_us: float
    local_median_us: float
    method: str
    call_cpu_us: float | None = None  # on the CPU: the same in CPU time used
    local_cpu_median_us: float | None = None


@dataclass(frozen=True)
class Malformed:
    """A line that named a known message but did not carry its fields: itself a sign of tampering."""

    kind: str
    error: str


MESSAGE_TYPES: tuple[type[ChildMessage], ...] = (
    DeviceReport,
    StageEntered,
    Verdict,
    ChildFailed,
    TrialWritten,
    ShapeTimed,
    BaselineTimed,
    ShapeProfiled,
    PositionsWanted,
    TimedOutputWritten,
    ProbeWanted,
    ProbePositionsWanted,
    ProbeTimed,
)
_BY_KIND = {cls.KIND: cls for cls in MESSAGE_TYPES}


class Channel:
    """The child's side of the message pipe."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def send(self, message: ChildMessage) -> None:
        fields = asdict(message)  # type: ignore[call-overload]  # every message is a dataclass
        payload = (json.dumps({"event": message.KIND, **fields}, default=str) + "\n").encode()
        while payload:
            written = os.write(self._fd, payload)
            payload = payload[written:]


def parse_message(line: bytes) -> ChildMessage | Malformed | None:
    """Decode one line; None for anything that is not a message at all (noise, unknown kinds)."""
    try:
        raw = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("event"), str):
        return None
    kind = raw.pop("event")
    cls = _BY_KIND.get(kind)
    if cls is None:
        return None
    try:
        message: ChildMessage = _adapter(cls).validate_python(raw)
    except ValueError as exc:  # pydantic's ValidationError is one
        return Malformed(kind, _first_error(exc))
    return message


_ADAPTERS: dict[str, Any] = {}


def _adapter(cls: type[ChildMessage]) -> Any:
    """A validator per message type, built on first use: children never import pydantic."""
    if cls.KIND not in _ADAPTERS:
        from pydantic import TypeAdapter

        _ADAPTERS[cls.KIND] = TypeAdapter(cls)
    return _ADAPTERS[cls.KIND]


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "message"
        return f"{where}: {first.get('msg', '')}"[:200]
    return str(exc)[:200]
