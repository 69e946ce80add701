"""Crucible's top-level package names, checked against other installed distributions at start-up.

Crucible installs ``kernels``, ``evaluator``, ``agent``, ``store`` and ``service`` as top-level
packages. Another distribution that installs one of those names (Hugging Face's ``kernels`` is
common among Crucible's users) shadows ours, and imports then fail far from the cause. The CLI
says so in one line instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata

OURS = "kernel-crucible"
TOP_LEVEL = ("kernels", "evaluator", "agent", "store", "service")


def shadowing(installed: Mapping[str, Sequence[str]], ours: str = OURS) -> dict[str, list[str]]:
    """Our top-level names that other distributions also install: name -> those distributions."""
    found = {}
    for name in TOP_LEVEL:
        others = sorted({d for d in installed.get(name, ()) if _normal(d) != _normal(ours)})
        if others:
            found[name] = others
    return found


def shadowing_message(found: Mapping[str, Sequence[str]]) -> str | None:
    """One line for the user, or None when nothing is shadowed."""
    if not found:
        return None
    clashes = "; ".join(f"{name!r} is also installed by {', '.join(dists)}" for name, dists in found.items())
    return (
        f"top-level package names clash: {clashes}. Install Crucible in its own virtual environment"
        " (make install does), or uninstall the other distribution"
    )


def installed_top_levels() -> Mapping[str, Sequence[str]]:
    return metadata.packages_distributions()


def _normal(distribution: str) -> str:
    return distribution.lower().replace("_", "-")
