"""Files the evaluator hands a candidate's process on request, at the moment it asks.

Probe inputs and the positions to check in timed outputs must not exist before the child is
done with what they test, so the evaluator writes them only when asked, under a temporary name
renamed into place: the child, polling for the final name, never loads a half-written file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from evaluator.wire.tensor_files import save_tensors


def deliver(source: Path, target: Path, link: bool = False) -> None:
    """A file the evaluator holds (a probe's inputs, say): a copy, or with ``link`` a hard link,
    only for a folder the child may not write (else it could write through to ``source``)."""
    partial = target.with_name(target.name + ".part")
    if link:
        try:
            os.link(source, partial)
        except OSError:  # another file system
            shutil.copyfile(source, partial)
    else:
        shutil.copyfile(source, partial)
    os.replace(partial, target)


def deliver_tensors(values: Any, target: Path) -> None:
    """Tensors the evaluator made just now (positions to check, say)."""
    partial = target.with_name(target.name + ".part")
    save_tensors(values, partial)
    os.replace(partial, target)
