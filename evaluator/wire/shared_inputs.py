"""Trial inputs that every candidate of an evaluator reads from one folder, instead of a copy each.

On softmax's GPU shapes a candidate's inputs are 2.4 GB; copying them into every candidate's
directory costs that much disk (or memory, on a memory-backed work root) per slot, and time.
Under Landlock the evaluator links them once into a folder of their own that candidates may
read and never write, so a candidate cannot spoil the inputs of the ones after it. Without
Landlock nothing would stop that write, so each candidate gets its own copies, as before.

The probes' inputs are never in this folder: a candidate must not read them before it is timed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from evaluator.reference import ReferenceData
from evaluator.wire.deliveries import deliver


def share_inputs(reference: ReferenceData, directory: Path) -> dict[Path, Path]:
    """Hard-link (copy, across file systems) the init inputs and the trials' inputs into
    ``directory``; returns each reference path's shared path."""
    directory.mkdir(parents=True, exist_ok=True)
    shared = {}
    for source in _candidate_inputs(reference):
        shared[source] = directory / source.name
        deliver(source, shared[source], link=True)
        shared[source].chmod(0o444)
    return shared


def inputs_for_candidate(
    reference: ReferenceData, shared: dict[Path, Path] | None, inputs_dir: Path
) -> dict[Path, Path]:
    """Where a candidate reads each input: the shared folder, or copies of its own in ``inputs_dir``
    (``shared`` None: no Landlock to keep the shared folder read-only)."""
    if shared is not None:
        return shared
    inputs_dir.mkdir(exist_ok=True)
    own = {}
    for source in _candidate_inputs(reference):
        own[source] = inputs_dir / source.name
        shutil.copyfile(source, own[source])  # a copy: the candidate may scribble on its own
    return own


def _candidate_inputs(reference: ReferenceData) -> list[Path]:
    """Every input file a candidate reads before it is timed: never the probes'."""
    return [reference.init_inputs_path, *(t.inputs_path for t in reference.trials)]
