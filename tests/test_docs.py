"""The README stays an entry point, and every page it or docs/ links to exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_short() -> None:
    assert len((REPO / "README.md").read_bytes()) <= 12 * 1024


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = [
        target
        for target in LINK.findall(page.read_text())
        if "://" not in target and not (page.parent / target).exists()
    ]
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_quoted_repository_path_exists(page: Path) -> None:
    """Paths written as `evaluator/child/harness.py` or `benchmarks/cpu_cores.py` are real."""
    quoted = re.findall(
        r"`((?:evaluator|kernels|agent|store|service|benchmarks|tests|docs)/[\w/.-]+\.(?:py|md))`",
        page.read_text(),
    )
    assert [p for p in quoted if not (REPO / p).exists()] == []
