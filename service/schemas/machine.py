"""Problems and the machine as documents: ``problems``, ``devices``, and the error document."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ConfigDict, Field, RootModel

from kernels.problem import SizeValue
from service.schemas.base import Document

if TYPE_CHECKING:
    from evaluator.hardware.devices import DeviceSpec
    from evaluator.sandbox.isolation import Isolation
    from kernels.problem import Problem


class ProblemShapeOut(Document):
    """One named input size of a problem, with the work per call where the problem declares it."""

    name: str = Field(description="the shape's name")
    sizes: dict[str, SizeValue] = Field(description="the keyword arguments get_inputs receives")
    devices: tuple[str, ...] = Field(description="the device kinds it runs on: cpu, cuda or both")
    flops: float | None = Field(description="floating-point operations per call, for the roofline")
    bytes_moved: float | None = Field(description="bytes read and written per call, for the roofline")


class ProblemOut(Document):
    """A loaded, validated problem: its shapes and the variant families kept with it."""

    name: str = Field(description="the problem's name")
    path: Path = Field(description="its reference file")
    builtin: bool = Field(description="one of Crucible's built-in problems")
    scaled_down: bool = Field(description="loaded with overridden (smaller) sizes")
    overrides: dict[str, int] = Field(description="the module-level sizes overridden")
    families: tuple[str, ...] = Field(description="the hand-written variant families kept with it")
    shapes: tuple[ProblemShapeOut, ...] = Field(description="its named input sizes")

    @classmethod
    def from_problem(cls, problem: Problem, families: Sequence[str]) -> ProblemOut:
        return cls(
            name=problem.name,
            path=problem.path,
            builtin=problem.builtin,
            scaled_down=problem.scaled_down,
            overrides=dict(problem.overrides),
            families=tuple(families),
            shapes=tuple(
                ProblemShapeOut(
                    name=s.name,
                    sizes=dict(s.sizes),
                    devices=tuple(s.devices),
                    flops=s.flops,
                    bytes_moved=s.bytes_moved,
                )
                for s in problem.shapes
            ),
        )


class ProblemListOut(RootModel[tuple[ProblemOut, ...]]):
    """``crucible problems --json``: every built-in problem."""

    model_config = ConfigDict(frozen=True)


class DevicePeakOut(Document):
    """A device's datasheet peaks, where Crucible knows them."""

    memory_gbps: float = Field(description="memory bandwidth, GB/s")
    tflops_fp32: float = Field(description="fp32 throughput, TFLOP/s")
    tflops_fp16: float = Field(description="fp16 tensor throughput, TFLOP/s")


class DeviceOut(Document):
    """One device of this machine as discovered and measured."""

    key: str = Field(description="cpu or cuda:N")
    kind: str = Field(description="cpu or cuda")
    name: str = Field(description="the device's name")
    memory_bytes: int = Field(description="its memory, bytes")
    sm_count: int | None = Field(description="streaming multiprocessors, on a GPU")
    l2_bytes: int | None = Field(description="L2 cache size, bytes")
    copy_gbps: float | None = Field(description="measured copy bandwidth (read plus write), GB/s")
    peak: DevicePeakOut | None = Field(description="the datasheet peaks, where known")
    driver: str | None = Field(description="the driver version, on a GPU")
    clocks: dict[str, float | str] = Field(description="clocks and counts at discovery time")

    @classmethod
    def from_spec(cls, spec: DeviceSpec) -> DeviceOut:
        return cls.model_validate(spec.to_dict())


class SandboxOut(Document):
    """The walls a candidate process gets on this host."""

    enabled: bool = Field(description="the sandbox is on (CRUCIBLE_SANDBOX)")
    network_namespace: bool = Field(description="candidates get no network")
    pid_namespace: bool = Field(description="the kernel kills every leftover process")
    drop_capabilities: bool = Field(description="limits cannot be raised again")
    landlock_abi: int = Field(description="the Landlock ABI in force; 0 when there is none")
    cgroups: bool = Field(description="process count (and CPU memory) bounded by a cgroup")
    warnings: tuple[str, ...] = Field(description="what is missing, in words")

    @classmethod
    def from_isolation(cls, isolation: Isolation, enabled: bool) -> SandboxOut:
        return cls.model_validate({"enabled": enabled, **isolation.describe()})


class ProfilersOut(Document):
    """The profilers that give candidates feedback here."""

    torch_profiler: bool = Field(description="the torch profiler, always available")
    ncu: str | None = Field(description="where Nsight Compute is installed, if it is")
    ncu_enabled: bool = Field(description="ncu is installed and turned on (CRUCIBLE_NCU)")


class MachineOut(Document):
    """``crucible devices --json``: this machine's devices, its sandbox and its profilers."""

    devices: tuple[DeviceOut, ...] = Field(description="the CPU, then every visible CUDA device")
    sandbox: SandboxOut = Field(description="the walls candidates get on this host")
    profilers: ProfilersOut = Field(description="the profilers available")

    @classmethod
    def from_machine(
        cls,
        specs: Sequence[DeviceSpec],
        isolation: Isolation,
        *,
        sandbox_on: bool,
        ncu: str | None,
        ncu_on: bool,
    ) -> MachineOut:
        return cls(
            devices=tuple(DeviceOut.from_spec(s) for s in specs),
            sandbox=SandboxOut.from_isolation(isolation, sandbox_on),
            profilers=ProfilersOut(torch_profiler=True, ncu=ncu, ncu_enabled=ncu_on and ncu is not None),
        )


class ErrorOut(Document):
    """What ``--json`` prints instead when a command fails on bad input."""

    error: str = Field(description="one message that says what is wrong and what to do")
