"""Each adversarial case file states, in an ``# expect: <status>`` header, the verdict it must get."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from evaluator.types import Status


def _expected_status(path: Path) -> Status:
    match = re.search(r"^# expect: (\w+)", path.read_text(), re.MULTILINE)
    assert match, f"{path.name} lacks an '# expect:' header"
    return Status(match.group(1))


@pytest.fixture
def expected_status() -> Callable[[Path], Status]:
    return _expected_status
