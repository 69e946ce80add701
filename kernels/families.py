"""Variant families: hand-written candidates kept beside a problem, each with a CONFIG_SPACE.

The offline proposer draws on them. A family is one file; its name is the file's stem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kernels.candidate import Language, detect_language, read_config_space
from kernels.config import ConfigSpace
from kernels.problem import REFERENCE_FILE, Problem


@dataclass(frozen=True)
class VariantFamily:
    name: str
    path: Path
    source: str
    config_space: ConfigSpace

    @property
    def language(self) -> Language:
        return detect_language(self.source)


def load_families(problem: Problem) -> list[VariantFamily]:
    """The problem's variant families, sorted by name. Empty when it has none."""
    directory = problem.variants_dir
    if not directory.is_dir():
        return []
    families = []
    for path in sorted(directory.glob("*.py")):
        if path.name in (REFERENCE_FILE, "__init__.py"):
            continue
        source = path.read_text(encoding="utf-8")
        families.append(VariantFamily(path.stem, path, source, read_config_space(source)))
    return families
