"""Every failure as ``{"error": "..."}`` (``ErrorOut``), with the status code that says whose fault it is.

* a run or candidate that does not exist (``StoreError``): 404;
* an upload whose name is taken (``UploadConflict``): 409; every validation slot busy: 429;
* any other ``CrucibleError`` (bad problem, unknown device, a candidate that cannot be exported,
  an LLM proposer that is not configured): 422, with its message;
* a body or parameter that does not fit its schema (``RequestValidationError``): 422, naming
  the field and what is wrong with it;
* Starlette's own (unknown path 404, wrong method 405, 401 from the token check): as raised.

Anything else is a bug: 500 with a generic message, and the traceback in the server's log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kernels.errors import CrucibleError
from service.api.uploads import UploadConflict, UploadsBusy
from service.schemas import ErrorOut
from store.errors import StoreError

log = logging.getLogger("crucible.api")

# For the OpenAPI schema: the error document, under each status code a route may give.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": what}
    for code, what in (
        (401, "no token, or a wrong one"),
        (404, "no such run or candidate"),
        (413, "the body is over the size limit"),
        (422, "the request is invalid, with the reason"),
    )
}


def error_response(code: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(ErrorOut(error=message).model_dump(), status_code=code, headers=headers)


def _where(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)] or ["body"]
    return ".".join(parts)


def validation_message(errors: Sequence[Any]) -> str:
    """``budget: Input should be greater than or equal to 1; device: ...``, at most five of them."""
    shown = []
    for error in list(errors)[:5]:
        if not isinstance(error, Mapping):
            shown.append(str(error))
            continue
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            message = f"the body is not valid JSON ({ctx.get('error', 'parse error')})"
        shown.append(f"{_where(error.get('loc', ()))}: {message}")
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(status.HTTP_422_UNPROCESSABLE_CONTENT, validation_message(exc.errors()))


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), exc.headers)


async def _on_crucible(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, StoreError):
        code = status.HTTP_404_NOT_FOUND
    elif isinstance(exc, UploadConflict):
        code = status.HTTP_409_CONFLICT
    elif isinstance(exc, UploadsBusy):
        code = status.HTTP_429_TOO_MANY_REQUESTS
    else:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    return error_response(code, str(exc))


async def _on_bug(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        status.HTTP_500_INTERNAL_SERVER_ERROR, "internal error; the server log has the details"
    )


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(CrucibleError, _on_crucible)
    app.add_exception_handler(Exception, _on_bug)
