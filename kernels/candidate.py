"""Candidates: a ModelNew source file plus the config it runs under, identified by a hash.

A candidate's identity is the hash of its *normalized* source (comments, docstrings
and formatting removed) plus its config, so cosmetic rewrites are not re-evaluated.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from kernels.config import Config, ConfigSpace, ConfigValue, validate_config
from kernels.errors import CandidateError

MAX_SOURCE_BYTES = 512 * 1024


class Language(str, Enum):
    TRITON = "triton"
    PYTORCH = "pytorch"


class Origin(str, Enum):
    """Who wrote the candidate."""

    OFFLINE = "offline"
    LLM = "llm"
    USER = "user"


@dataclass(frozen=True)
class Candidate:
    """A candidate kernel: source, config, and where it came from."""

    source: str
    config: Config = field(default_factory=Config)
    family: str = "user"
    origin: Origin = Origin.USER
    parent_hash: str | None = None

    @functools.cached_property
    def hash(self) -> str:
        """Computed once per candidate: normalizing the source parses it."""
        return candidate_hash(self.source, self.config)

    @property
    def language(self) -> Language:
        return detect_language(self.source)


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            first = body[0] if body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


def normalize_source(source: str) -> str:
    """Canonical text of a module: parsed and unparsed, without comments or docstrings.

    Sources that do not parse are normalized by whitespace only, so they still get a stable hash.
    """
    try:
        return ast.unparse(_strip_docstrings(ast.parse(source)))
    except SyntaxError:
        return "\n".join(line.rstrip() for line in source.strip().splitlines())


def candidate_hash(source: str, config: Config) -> str:
    digest = hashlib.sha256()
    digest.update(normalize_source(source).encode())
    digest.update(b"\0")
    digest.update(config.to_json().encode())
    return digest.hexdigest()[:16]


def detect_language(source: str) -> Language:
    """Triton when the module defines a @triton.jit function, else PyTorch."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return Language.PYTORCH
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                text = ast.unparse(deco)
                if text.startswith(("triton.jit", "jit", "triton.autotune", "triton.heuristics")):
                    return Language.TRITON
    return Language.PYTORCH


def read_config_space(source: str) -> ConfigSpace:
    """The module-level CONFIG_SPACE literal, read without executing the candidate."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "CONFIG_SPACE" and value is not None:
                return _literal_space(value)
    return {}


def _literal_space(node: ast.expr) -> ConfigSpace:
    try:
        space = ast.literal_eval(node)
    except ValueError as exc:
        raise CandidateError(f"CONFIG_SPACE must be a literal dict of lists: {exc}") from None
    if not isinstance(space, dict) or not all(isinstance(k, str) for k in space):
        raise CandidateError("CONFIG_SPACE must be a dict with string keys")
    out: ConfigSpace = {}
    for key, values in space.items():
        if not isinstance(values, list | tuple) or not values:
            raise CandidateError(f"CONFIG_SPACE[{key!r}] must be a non-empty list")
        for v in values:
            if not isinstance(v, int | float | str | bool) and v is not None:
                raise CandidateError(f"CONFIG_SPACE[{key!r}] holds {v!r}; only JSON scalars are allowed")
        out[key] = list(values)
    return out


def read_candidate_file(path: Path) -> str:
    """Read a candidate file, with a clear error for anything that is not a readable text file."""
    if not path.exists():
        raise CandidateError(f"candidate file {path} does not exist")
    if not path.is_file():
        raise CandidateError(f"candidate path {path} is not a file")
    data = path.read_bytes()
    if len(data) > MAX_SOURCE_BYTES:
        raise CandidateError(f"candidate file {path} is {len(data)} bytes; the limit is {MAX_SOURCE_BYTES}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CandidateError(f"candidate file {path} is not UTF-8 text") from None


def make_candidate(
    source: str,
    config: dict[str, ConfigValue] | None = None,
    *,
    family: str = "user",
    origin: Origin = Origin.USER,
    parent_hash: str | None = None,
) -> Candidate:
    """Build a candidate whose config is checked against its own CONFIG_SPACE.

    With no config given, the first value of each knob is used.
    """
    space = read_config_space(source)
    chosen = Config.of({k: v[0] for k, v in space.items()} | (config or {}))
    validate_config(chosen, space)
    return Candidate(source=source, config=chosen, family=family, origin=origin, parent_hash=parent_hash)
