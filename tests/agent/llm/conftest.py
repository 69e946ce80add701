"""Fixtures for the LLM client tests: scripted OpenAI-compatible servers on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.scripted_llm import ScriptedLLM


@pytest.fixture
def scripted_llm() -> Iterator[Callable[..., ScriptedLLM]]:
    """``scripted_llm(script, then=None)``: a started server; every one is closed after the test."""
    made: list[ScriptedLLM] = []

    def start(*args: Any, **kwargs: Any) -> ScriptedLLM:
        server = ScriptedLLM(*args, **kwargs).start()
        made.append(server)
        return server

    yield start
    for server in made:
        server.close()
