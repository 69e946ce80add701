"""The write-back rule of ``apply_kernel`` (``service.mcp.apply``), on plain folders: Crucible
replaces only what its manifest says it wrote, and a refused write changes nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from service.mcp.apply import MANIFEST, ApplyRefused, commit, kernel_directory, plan_writes


def manifest_for(files: dict[str, bytes]) -> bytes:
    recorded = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    return json.dumps({"format": 1, "files": recorded}, sort_keys=True).encode()


def export(version: str) -> dict[str, bytes]:
    files = {"k_kernel.py": f"# kernel {version}\n".encode(), "test_k_kernel.py": b"# test\n"}
    return {**files, MANIFEST: manifest_for(files)}


def write(directory: Path, files: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def actions(directory: Path, staged: dict[str, bytes]) -> dict[str, str]:
    plan = plan_writes(directory, staged)
    commit(plan)
    return {w.path.name: w.action for w in plan}


def test_a_new_folder_is_created_with_the_manifest_written_last(tmp_path):
    directory = kernel_directory(tmp_path / "model.py", "soft-max")
    assert directory == tmp_path / "crucible_kernels" / "soft_max"
    plan = plan_writes(directory, export("1"))
    assert [w.path.name for w in plan][-1] == MANIFEST
    assert not directory.exists()  # planning writes nothing
    commit(plan)
    assert snapshot(directory) == export("1")


def test_files_crucible_wrote_are_replaced_and_equal_ones_left_unchanged(tmp_path):
    write(tmp_path, export("1"))
    assert actions(tmp_path, export("2")) == {
        "k_kernel.py": "replaced",
        "test_k_kernel.py": "unchanged",
        MANIFEST: "replaced",
    }
    assert snapshot(tmp_path) == export("2")
    assert set(actions(tmp_path, export("2")).values()) == {"unchanged"}
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        (lambda d: write(d, {"k_kernel.py": b"mine\n"}), "no Crucible manifest.json"),
        (lambda d: (write(d, export("1")), (d / "k_kernel.py").write_bytes(b"edited\n")), "edited since"),
        (lambda d: write(d, {"test_k_kernel.py": b"mine\n", MANIFEST: manifest_for({})}), "not listed"),
        (lambda d: write(d, {"k_kernel.py": b"mine\n", MANIFEST: b"{not json"}), "no Crucible manifest"),
    ],
    ids=["no-manifest", "edited", "unlisted", "foreign-manifest"],
)
def test_a_file_crucible_did_not_write_refuses_the_whole_call(tmp_path, arrange, reason):
    arrange(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(ApplyRefused, match=reason) as refused:
        plan_writes(tmp_path, export("2"))
    assert "nothing was written" in str(refused.value)
    assert snapshot(tmp_path) == before


def test_links_and_folders_in_the_way_are_refused(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_bytes(b"precious\n")
    directory = tmp_path / "kernels"
    directory.mkdir()
    (directory / "k_kernel.py").symlink_to(outside)
    with pytest.raises(ApplyRefused, match="not a regular file"):
        plan_writes(directory, export("1"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ApplyRefused, match="not a folder"):
        plan_writes(tmp_path / "file", export("1"))
    assert outside.read_bytes() == b"precious\n"


def test_a_file_that_changes_between_plan_and_write_is_left_alone(tmp_path):
    write(tmp_path, export("1"))
    plan = plan_writes(tmp_path, export("2"))
    (tmp_path / "k_kernel.py").write_bytes(b"edited meanwhile\n")
    with pytest.raises(ApplyRefused, match="changed while"):
        commit(plan)
    assert (tmp_path / "k_kernel.py").read_bytes() == b"edited meanwhile\n"
