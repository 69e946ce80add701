"""The command line's shared options and how their raw text becomes typed values: sizes,
``KEY=VALUE`` pairs, ``--scale-to-cpu``'s overrides, and CONFIG choices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from kernels.errors import CrucibleError

if TYPE_CHECKING:
    from service.settings import Settings

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")]
ScaleOpt = Annotated[
    bool,
    typer.Option(
        "--scale-to-cpu",
        help="Halve the file's module-level sizes until one call fits a CPU (recorded as scaled down).",
    ),
]
SizeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--size", help="Override a module-level integer size of the problem file, NAME=VALUE (repeatable)."
    ),
]
DeviceOpt = Annotated[
    str | None, typer.Option("--device", help="cpu, cuda or cuda:N (default: CRUCIBLE_DEVICE or cpu).")
]


def load_settings() -> Settings:
    """The settings, read when a command runs (not at import, so ``--help`` needs none)."""
    from service.settings import Settings

    return Settings()


def parse_pairs(items: list[str] | None, what: str) -> dict[str, str]:
    pairs = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CrucibleError(f"{what} expects NAME=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def size_overrides(items: list[str] | None) -> dict[str, int]:
    overrides = {}
    for key, value in parse_pairs(items, "--size").items():
        try:
            overrides[key] = int(value)
        except ValueError:
            raise CrucibleError(f"--size {key}={value}: the value must be an integer") from None
    return overrides


def problem_sizes(
    problem: str | Path, size: list[str] | None, scale_to_cpu: bool, err: Console
) -> dict[str, int]:
    """The size overrides for one problem: ``--scale-to-cpu``'s, then the explicit ``--size`` ones."""
    explicit = size_overrides(size)
    if not scale_to_cpu:
        return explicit
    from kernels.problem import resolve_problem_path
    from kernels.scaling import cpu_overrides

    found = cpu_overrides(resolve_problem_path(problem)[1])
    if found:
        shown = ", ".join(f"{k}={v}" for k, v in found.items())
        err.print(f"scaled down for the CPU: {shown}")
    return {**found, **explicit}


def coerce_config_value(value: str, allowed: list[Any]) -> Any:
    """Match a command-line string to the CONFIG_SPACE value it names."""
    for option in allowed:
        if str(option) == value or (isinstance(option, bool) and value.lower() == str(option).lower()):
            return option
    try:
        return json.loads(value)
    except ValueError:
        return value
