"""What every document shares: the frozen, strict base model and the field types used across them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from kernels.config import ConfigValue

# Times as ``datetime.isoformat`` writes them (``+00:00``, not pydantic's ``Z``), as the CLI always has.
IsoDatetime = Annotated[
    datetime,
    PlainSerializer(lambda t: t.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# The profiler's report for a result (``evaluator.types.Profile``), as an open mapping for now; a
# typed model of it replaces this alias and ``results._profile``, and nothing else.
ProfileOut: TypeAlias = dict[str, Any]

# What a candidate shows before it has a verdict.
Pending: TypeAlias = Literal["pending"]

Config: TypeAlias = dict[str, ConfigValue]


class Document(BaseModel):
    """The base of every document: immutable, and strict about the keys it carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")
