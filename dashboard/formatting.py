"""Numbers as the dashboard prints them: short, with units, and a dash for what is missing."""

from __future__ import annotations

from datetime import UTC, datetime


def speedup(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def micros(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value / 1000:.2f} ms"
    return f"{value:.1f} µs"


def usd(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"


def age(when: datetime, now: datetime | None = None) -> str:
    """How long ago, in the largest unit that fits: 42 s, 5 min, 3 h, 2 d."""
    moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    seconds = max(((now or datetime.now(UTC)) - moment).total_seconds(), 0.0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def error(value: float | None) -> str:
    return "—" if value is None else f"{value:.1e}"


def mib(value: int | None) -> str:
    return "—" if value is None else f"{value / 2**20:.1f} MiB"
