"""``docs/configuration.md`` says what ``Settings`` holds, generated from it."""

from __future__ import annotations

from pathlib import Path

from service.settings import Settings
from service.settings_doc import render

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_configuration_page_is_current() -> None:
    assert PAGE.read_text() == render(), "regenerate: python -m service.settings_doc > docs/configuration.md"


def test_every_setting_is_described() -> None:
    missing = [name for name, info in Settings.model_fields.items() if not info.description]
    assert missing == []
