"""``/api/v1/candidates``: one candidate with its source, and its export as a zip.

The export is ``crucible export cID``'s: the kernel module with its provenance header, a copy
of the problem's reference and a pytest file that checks one against the other, written into
a temporary folder by ``service.exporting`` and zipped under ``c<ID>/``. Only a candidate that
passed can be exported; any other gets 422 with its status.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi import Path as PathParam

from service.api.auth import require_token
from service.api.errors import ERROR_RESPONSES
from service.api.runs import MAX_ID
from service.api.state import ApiState, api_state
from service.exporting import export_from_store
from service.schemas import CandidateDetailOut

router = APIRouter(
    prefix="/api/v1", tags=["candidates"], dependencies=[Depends(require_token)], responses=ERROR_RESPONSES
)

CandidateId = Annotated[
    int, PathParam(ge=1, le=MAX_ID, description="the candidate's id (17 for c17)", examples=[1])
]


@router.get("/candidates/{candidate_id}", response_model=CandidateDetailOut)
def get_candidate(candidate_id: CandidateId, state: ApiState = Depends(api_state)) -> CandidateDetailOut:
    """One candidate: its verdict, metrics and source."""
    return CandidateDetailOut.from_record(state.store.get_candidate(candidate_id))


def zip_folder(folder: Path, prefix: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


@router.get(
    "/candidates/{candidate_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "the exported kernel, zipped"}},
)
def export_candidate(candidate_id: CandidateId, state: ApiState = Depends(api_state)) -> Response:
    """The candidate as a standalone module that tests itself, in a zip."""
    with tempfile.TemporaryDirectory(prefix="crucible-export-") as tmp:
        _, files = export_from_store(state.store, f"c{candidate_id}", Path(tmp) / "export")
        content = zip_folder(files.directory, f"c{candidate_id}")
    return Response(
        content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="c{candidate_id}.zip"'},
    )
