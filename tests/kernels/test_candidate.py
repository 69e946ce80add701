"""Candidate identity, CONFIG_SPACE parsing and config validation."""

from __future__ import annotations

import pytest

from kernels.candidate import Language, candidate_hash, make_candidate, normalize_source, read_config_space
from kernels.config import Config, default_config, enumerate_space, space_size
from kernels.errors import CandidateError

SOURCE = '''"""A docstring."""
import torch

CONFIG_SPACE = {"block": [64, 128], "warps": [4, 8], "fast": [True, False]}


class ModelNew(torch.nn.Module):
    def forward(self, x):  # a comment
        return x
'''


def test_hash_ignores_comments_docstrings_and_formatting() -> None:
    reformatted = (
        SOURCE.replace("# a comment", "").replace('"""A docstring."""', "").replace("(self, x)", "(self,x)")
    )
    assert normalize_source(SOURCE) == normalize_source(reformatted)
    assert candidate_hash(SOURCE, Config.of({"block": 64})) == candidate_hash(
        reformatted, Config.of({"block": 64})
    )


def test_hash_changes_with_code_or_config() -> None:
    base = candidate_hash(SOURCE, Config.of({"block": 64}))
    assert base != candidate_hash(SOURCE, Config.of({"block": 128}))
    assert base != candidate_hash(SOURCE.replace("return x", "return x + 0"), Config.of({"block": 64}))


def test_config_space_is_read_without_running_the_file() -> None:
    space = read_config_space(SOURCE + "\nraise SystemExit('never executed')\n")
    assert space == {"block": [64, 128], "warps": [4, 8], "fast": [True, False]}
    assert space_size(space) == 8
    assert len(list(enumerate_space(space))) == 8
    assert default_config(space).as_dict() == {"block": 64, "warps": 4, "fast": True}


def test_make_candidate_fills_defaults_and_validates() -> None:
    cand = make_candidate(SOURCE, {"warps": 8})
    assert cand.config.as_dict() == {"block": 64, "warps": 8, "fast": True}
    assert cand.language is Language.PYTORCH
    with pytest.raises(CandidateError, match="not in CONFIG_SPACE"):
        make_candidate(SOURCE, {"stages": 3})
    with pytest.raises(CandidateError, match="is not one of"):
        make_candidate(SOURCE, {"block": 96})


@pytest.mark.parametrize("space", ["{'a': 3}", "{'a': []}", "{1: [1]}", "[1, 2]", "{'a': [object()]}"])
def test_malformed_config_space_is_refused(space: str) -> None:
    with pytest.raises(CandidateError):
        read_config_space(f"CONFIG_SPACE = {space}\n")


def test_triton_detected_from_jit_decorator() -> None:
    triton_src = "import triton\n@triton.jit\ndef k(x):\n    pass\n"
    assert make_candidate(triton_src + "class ModelNew: pass\n").language is Language.TRITON
