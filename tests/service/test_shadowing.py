"""Another distribution that installs one of Crucible's top-level names is named at start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.shadowing import OURS, installed_top_levels, shadowing, shadowing_message


def test_a_clash_is_named_with_the_distribution_behind_it() -> None:
    installed = {"kernels": ["kernels", OURS], "store": [OURS], "numpy": ["numpy"]}
    found = shadowing(installed)
    assert found == {"kernels": ["kernels"]}
    message = shadowing_message(found)
    assert message is not None and "'kernels' is also installed by kernels" in message
    assert "\n" not in message


def test_our_own_distribution_is_no_clash_however_its_name_is_spelled() -> None:
    assert shadowing({"kernels": ["Kernel_Crucible"], "agent": ["kernel-crucible"]}) == {}
    assert shadowing_message({}) is None


def test_this_environment_has_no_clash() -> None:
    assert shadowing(installed_top_levels()) == {}


def test_the_cli_says_it_in_one_line(tmp_path: Path) -> None:
    """A fake distribution that claims the top-level name ``kernels`` makes ``crucible`` warn."""
    dist = tmp_path / "kernels-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kernels\nVersion: 1.0\n")
    (dist / "top_level.txt").write_text("kernels\n")
    (dist / "RECORD").write_text("")
    code = f"import sys; sys.path.append({str(tmp_path)!r}); sys.argv = ['crucible', '--help']\n"
    code += "from service.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    warnings = [line for line in done.stderr.splitlines() if "clash" in line]
    assert len(warnings) == 1 and "'kernels' is also installed by kernels" in warnings[0], done.stderr
