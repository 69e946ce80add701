"""``crucible export``: one kernel, or every kernel on a run's front, as modules users can ship."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console

from kernels.errors import CrucibleError
from service import render
from service.exporting import export_from_store, export_front
from service.schemas import ExportOut
from service.settings import Settings
from store.repository import Store


def run_export(
    settings: Settings, target: str, out_dir: Path, *, front: bool, as_json: bool, out: Console
) -> None:
    """Writes each kernel's folder and says where; ``--front`` takes a run id."""
    with Store(settings.database_url) as store:
        if front:
            if not target.strip().isdigit():
                raise CrucibleError(f"--front takes a run id, not {target!r}")
            exported = export_front(store, int(target), out_dir)
        else:
            exported = [export_from_store(store, target, out_dir)]
    if as_json:
        if not front:
            render.emit_json(ExportOut.from_files(*exported[0]))
            return
        documents = [ExportOut.from_files(r, f).model_dump(mode="json") for r, f in exported]
        sys.stdout.write(json.dumps(documents, indent=2) + "\n")
        return
    for record, files in exported:
        out.print(f"exported c{record.id} to {files.module}")
        out.print(f"  test: {files.test}\n  run it: pytest {files.directory}")
