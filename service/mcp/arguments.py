"""The tools' argument types: bounded, described, and checked by the SDK before a tool runs.

A call that breaks them gets an ``isError`` result naming the field, and the tool never runs.
Bounds match the HTTP API's (``service.schemas.api``) where the API takes the same thing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from kernels.candidate import MAX_SOURCE_BYTES
from kernels.config import ConfigValue
from service.schemas.api import MAX_BUDGET, MAX_PROBLEM_SOURCE_CHARS

MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL

ProblemRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4096),
    Field(
        description="a built-in problem's name (e.g. softmax), a name create_problem returned, or a"
        " path to a KernelBench-format .py file (absolute paths are safest)"
    ),
]
DeviceArg = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9:]{1,32}$"),
    Field(description="cpu, cuda or cuda:N; results are always keyed by device"),
]
CandidateSource = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_SOURCE_BYTES,
        description="the candidate module's full source: class ModelNew(torch.nn.Module) with the"
        " reference Model's constructor and forward signature; may define Triton kernels and a"
        " literal CONFIG_SPACE",
    ),
]
ConfigArg = Annotated[
    dict[str, ConfigValue] | None,
    Field(
        description="a point of the candidate's CONFIG_SPACE (knob -> value); missing knobs take the"
        " first listed value"
    ),
]
ProblemSource = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_PROBLEM_SOURCE_CHARS,
        description="a path to the problem .py file, or the file's whole source text",
    ),
]
ProblemNameArg = Annotated[
    str | None,
    Field(
        description="the name to keep it under (1-64 of A-Z a-z 0-9 _ -); default: the file's stem",
    ),
]
Budget = Annotated[int, Field(ge=1, le=MAX_BUDGET, description="candidates to evaluate in total")]
Proposer = Annotated[
    Literal["auto", "offline", "llm"],
    Field(
        description="offline: the built-in autotuner over the problem's variant families; llm: a"
        " language model (needs OPENAI_BASE_URL and CRUCIBLE_MODELS); auto: llm when configured"
    ),
]
RunId = Annotated[int, Field(ge=1, le=MAX_ID, description="the run's id, from start_run")]
CandidateId = Annotated[
    int, Field(ge=1, le=MAX_ID, description="a candidate's id, from search_kernels, pareto or run_status")
]
TargetFile = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4096),
    Field(description="the user's source file the kernel is for (e.g. /proj/model.py); it must exist"),
]
