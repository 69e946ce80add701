"""The files tensors travel in between the evaluator's processes: complete, compact and cheap."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch

from evaluator.wire.tensor_files import load_tensors, save_outputs, save_tensors


def test_saved_tensors_load_back_exactly(tmp_path: Path) -> None:
    values = [torch.randn(33, 17), torch.arange(5), 3]
    save_tensors(values, tmp_path / "v.pt")
    loaded = load_tensors(tmp_path / "v.pt")
    assert torch.equal(loaded[0], values[0]) and torch.equal(loaded[1], values[1]) and loaded[2] == 3


def test_the_archive_carries_no_checksum(tmp_path: Path) -> None:
    """A checksummed archive passes zipfile's CRC test; ours fails it, because none was computed."""
    pytest.importorskip("torch.utils.serialization.config")
    x = torch.randn(1000)
    torch.save([x], tmp_path / "checked.pt")
    save_tensors([x], tmp_path / "unchecked.pt")
    assert zipfile.ZipFile(tmp_path / "checked.pt").testzip() is None
    assert zipfile.ZipFile(tmp_path / "unchecked.pt").testzip() is not None


def test_a_view_is_saved_without_the_storage_behind_it(tmp_path: Path) -> None:
    base = torch.randn(1000, 100)
    save_outputs([base[:2]], tmp_path / "out.pt")
    (loaded,) = load_tensors(tmp_path / "out.pt")
    assert torch.equal(loaded, base[:2])
    assert loaded.untyped_storage().nbytes() == 2 * 100 * 4
