"""Shared fixtures: clean environments, temp Triton caches, and the GPU marker's skip."""

from __future__ import annotations

import pytest


def _cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU; none on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def triton_cache(tmp_path, monkeypatch):
    """A private Triton cache for tests that compile kernels in this process."""
    path = tmp_path / "triton_cache"
    monkeypatch.setenv("TRITON_CACHE_DIR", str(path))
    return path
