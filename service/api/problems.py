"""``/api/v1/problems``: the problems a run can name, and uploading a KernelBench-format file.

An upload is ``{"name", "source"}`` as JSON (no multipart). It is loaded in a process of its
own (``service.api.uploads``), never in the server, and kept only when it loads: 201 with its
description when new, 200 when the same source is already kept under that name, 409 when the
name is a built-in's or holds another source, 422 with the loader's reason when it is broken
(a syntax error, no ``Model``, an exit, a crash or a timeout at import), 429 while every
validation slot is busy.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from service.api.auth import require_token
from service.api.errors import ERROR_RESPONSES
from service.api.state import ApiState, api_state
from service.schemas import ErrorOut, ProblemListOut, ProblemOut, ProblemUploadIn

router = APIRouter(
    prefix="/api/v1", tags=["problems"], dependencies=[Depends(require_token)], responses=ERROR_RESPONSES
)


@router.get("/problems", response_model=ProblemListOut)
def list_problems(state: ApiState = Depends(api_state)) -> ProblemListOut:
    """The built-in problems, then the uploaded ones: their shapes and variant families."""
    return state.catalog.listing()


@router.post(
    "/problems",
    status_code=status.HTTP_201_CREATED,
    response_model=ProblemOut,
    responses={
        200: {"model": ProblemOut, "description": "the same source was already kept under this name"},
        409: {"model": ErrorOut, "description": "the name is taken"},
        429: {"model": ErrorOut, "description": "every validation slot is busy; retry"},
    },
)
def upload_problem(
    body: ProblemUploadIn, response: Response, state: ApiState = Depends(api_state)
) -> ProblemOut:
    """Validate a problem file in a process of its own and keep it, so POST /runs can name it."""
    described, created = state.catalog.uploads.add(body.name, body.source)
    if not created:
        response.status_code = status.HTTP_200_OK
    return described
