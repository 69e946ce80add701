"""What this machine offers Crucible: its devices as measured, and the walls candidates get here.

``crucible devices`` shows it, so a user knows before a run what a speedup will be measured on
and how strong the sandbox around generated code is on this host.
"""

from __future__ import annotations

from rich.table import Table

from evaluator.hardware.devices import DeviceSpec
from evaluator.sandbox.isolation import Isolation
from service.render import fmt


def size_text(value: int | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value} B"


def devices_table(specs: list[DeviceSpec]) -> Table:
    table = Table(title="Devices")
    table.add_column("device")
    table.add_column("name")
    for column in ("memory", "SMs", "L2", "copy GB/s", "TFLOP/s fp32/16", "clock"):
        table.add_column(column, justify="right")
    for spec in specs:
        peak = spec.peak
        copy = "not measured" if spec.copy_gbps is None else f"{spec.copy_gbps:.0f}"
        if peak is not None and spec.copy_gbps is not None:
            copy += f" ({spec.copy_gbps / peak.memory_gbps:.0%} of {peak.memory_gbps:.0f})"
        table.add_row(
            spec.key,
            spec.name,
            size_text(spec.memory_bytes),
            fmt(spec.sm_count, "d"),
            size_text(spec.l2_bytes),
            copy,
            "-" if peak is None else f"{peak.tflops_fp32:g}/{peak.tflops_fp16:g}",
            clocks_text(spec.clocks),
        )
    return table


def clocks_text(clocks: dict[str, float | str]) -> str:
    if "sm_mhz" in clocks:
        text = f"SM {clocks['sm_mhz']:.0f}"
        if "max_sm_mhz" in clocks:
            text += f"/{clocks['max_sm_mhz']:.0f}"
        return text + " MHz"
    if "cpu_mhz" in clocks:
        return f"{clocks['cpu_mhz']:.0f} MHz"
    return "-"


def sandbox_rows(isolation: Isolation, sandbox_on: bool) -> list[tuple[str, bool, str]]:
    """(layer, in force, what it means) for each wall a candidate process gets on this host."""
    if not sandbox_on:
        return [("sandbox", False, "turned off by CRUCIBLE_SANDBOX=false: candidates run unconfined")]
    abi = isolation.landlock_abi
    return [
        ("network namespace", isolation.network_namespace, "no network for candidates"),
        ("PID namespace", isolation.pid_namespace, "the kernel kills every leftover process"),
        ("capabilities dropped", isolation.drop_capabilities, "limits cannot be raised again"),
        (f"Landlock (ABI {abi})", abi > 0, "writes only to its own directory; no store, no expected outputs"),
        ("Landlock sockets and signals", abi >= 6, "no abstract sockets or signals outside its domain"),
        ("cgroup", isolation.cgroups, "process count (and CPU memory) bounded even for root"),
    ]


def sandbox_table(isolation: Isolation, sandbox_on: bool) -> Table:
    table = Table(title="Sandbox for candidates on this host")
    table.add_column("layer")
    table.add_column("in force")
    table.add_column("effect")
    for layer, held, effect in sandbox_rows(isolation, sandbox_on):
        table.add_row(layer, "[green]yes[/]" if held else "[red]no[/]", effect)
    return table
