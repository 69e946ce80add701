"""Documents sent as they are: one ``model_dump_json`` per response.

A route that returns a pydantic model under ``response_model`` has FastAPI dump it, validate the
dump against the same model and serialize it again; for a Pareto front of 40 candidates with
their per-shape results that is most of the request. Our documents are built by typed
constructors and frozen, so the routes send them through ``DocumentResponse`` instead, and keep
``response_model`` for the schema. Non-finite floats become ``null``, as pydantic writes them.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from service.schemas.base import Document


class DocumentResponse(JSONResponse):
    """A JSON response whose body is a ``Document``'s own JSON."""

    def render(self, content: Any) -> bytes:
        if isinstance(content, Document):
            return content.model_dump_json().encode()
        return super().render(content)
