"""Response parsing and SEARCH/REPLACE application, against the built-in variant families."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agent.edits import FailureKind, ParsedSource, ParseFailure, ResponseMode, parse_response
from kernels.problem import BUILTIN_DIR

MATMUL = (BUILTIN_DIR / "matmul" / "triton_tiled.py").read_text(encoding="utf-8")
LAYERNORM = (BUILTIN_DIR / "layernorm" / "triton_tiled.py").read_text(encoding="utf-8")
VARIANTS = sorted(p for p in BUILTIN_DIR.glob("*/*.py") if p.name != "reference.py")
REFERENCES = sorted(BUILTIN_DIR.glob("*/reference.py"))

SMALL = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x * 2\n"
)


def edit(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def parsed(result: ParsedSource | ParseFailure) -> ParsedSource:
    assert isinstance(result, ParsedSource), result
    return result


def failed(result: ParsedSource | ParseFailure, kind: FailureKind) -> str:
    assert isinstance(result, ParseFailure), result
    assert result.kind is kind, result
    return result.reason


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_variant_comes_back_from_a_fenced_reply(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    reply = f"Here is a faster kernel.\n\n```python\n{source}```\n\nIt fuses the passes."
    result = parsed(parse_response(reply, None))
    assert result.source == source
    assert result.mode is ResponseMode.FULL_FILE and result.edits_applied == 0


@pytest.mark.parametrize("path", REFERENCES, ids=lambda p: p.parent.name)
def test_a_reference_file_is_not_a_candidate(path: Path) -> None:
    reply = f"```python\n{path.read_text(encoding='utf-8')}```"
    assert "ModelNew" in failed(parse_response(reply, None), FailureKind.NO_MODELNEW)


@pytest.mark.parametrize("fence", ["```python", "```py", "```", "```Python3", "~~~python"])
def test_fence_spellings(fence: str) -> None:
    closing = "~~~" if fence.startswith("~") else "```"
    assert parsed(parse_response(f"{fence}\n{SMALL}{closing}\n", None)).source == SMALL


def test_prefers_the_block_that_defines_modelnew() -> None:
    reply = "First a helper:\n```python\ndef helper(x):\n    return x\n```\n"
    reply += f"Then the file:\n```python\n{MATMUL}```\n"
    reply += "Run it with:\n```bash\npython bench.py\n```\n"
    assert parsed(parse_response(reply, None)).source == MATMUL


def test_of_two_full_files_the_last_that_parses_wins() -> None:
    broken = SMALL.replace("return x * 2", "return x *")
    reply = (
        f"```python\n{SMALL}```\nRevised:\n```python\n{SMALL.replace('2', '3')}```\n```python\n{broken}```"
    )
    assert "x * 3" in parsed(parse_response(reply, None)).source


def test_an_unterminated_final_fence_runs_to_the_end() -> None:
    reply = f"Sure.\n```python\n{MATMUL}"
    assert parsed(parse_response(reply, None)).source == MATMUL


def test_bare_code_without_fences_is_accepted() -> None:
    assert parsed(parse_response(SMALL, None)).source == SMALL


def test_no_code_at_all() -> None:
    reason = failed(parse_response("I would tile the loop over K.", None), FailureKind.NO_CODE)
    assert "SEARCH/REPLACE" in reason


def test_syntax_error_names_the_line() -> None:
    broken = SMALL.replace("return x * 2", "return (x * 2")
    reason = failed(parse_response(f"```python\n{broken}```", None), FailureKind.SYNTAX_ERROR)
    assert "line 6" in reason and "return (x * 2" in reason


def test_too_long_is_refused_with_both_sizes() -> None:
    reply = f"```python\n{SMALL}```\n" + "#" * 300
    reason = failed(parse_response(reply, None, max_chars=200), FailureKind.TOO_LONG)
    assert f"{len(reply):,}" in reason and "200" in reason
    assert isinstance(parse_response(reply, None, max_chars=len(reply)), ParsedSource)


def test_response_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n{SMALL}"
    reply = f"```python\n{payload}```\n" + edit(
        "import pathlib", f"import pathlib\nopen({str(marker)!r}, 'w')"
    )
    assert isinstance(parse_response(f"```python\n{payload}```", None), ParsedSource)
    assert isinstance(parse_response(reply, payload), ParsedSource)
    assert not marker.exists()


def test_one_exact_edit_of_a_real_parent() -> None:
    result = parsed(
        parse_response(
            edit("GROUP_M = 8  # tile-rows per group in the launch order, for L2 reuse", "GROUP_M = 4"),
            MATMUL,
        )
    )
    assert result.mode is ResponseMode.EDITS and result.edits_applied == 1
    assert result.source == MATMUL.replace(
        "GROUP_M = 8  # tile-rows per group in the launch order, for L2 reuse", "GROUP_M = 4"
    )


def test_several_edits_apply_in_order_inside_a_fence() -> None:
    first = edit("GROUP_M = 8  # tile-rows per group in the launch order, for L2 reuse", "GROUP_M = 16")
    second = edit("GROUP_M = 16", "GROUP_M = 32  # revised")  # only matches after the first edit
    reply = f"kernels/problems/matmul/triton_tiled.py\n```python\n{first}```\nand\n```python\n{second}```\n"
    result = parsed(parse_response(reply, MATMUL))
    assert result.edits_applied == 2
    assert "GROUP_M = 32  # revised\n" in result.source and "GROUP_M = 8 " not in result.source


def test_trailing_whitespace_drift_still_matches() -> None:
    acc = "    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)"
    search = f"{acc}   \n    for k in range(0, tl.cdiv(K, BLOCK_K)):  "
    replace = f"{acc}\n    for k in range(0, tl.cdiv(K, BLOCK_K), 1):"
    result = parsed(parse_response(edit(search, replace), MATMUL))
    assert "for k in range(0, tl.cdiv(K, BLOCK_K), 1):\n" in result.source


def test_a_dedented_search_is_matched_and_its_replacement_reindented() -> None:
    # The model quoted the loop body without its 8 spaces of indentation.
    load = "a = tl.load(a_ptrs, mask=offs_k[None, :] < k_remaining, other=0.0)"
    search = f"k_remaining = K - k * BLOCK_K\n{load}"
    replace = f"k_remaining = K - k * BLOCK_K\nif k_remaining > 0:\n    {load}"
    result = parsed(parse_response(edit(search, replace), MATMUL))
    expected = f"        k_remaining = K - k * BLOCK_K\n        if k_remaining > 0:\n            {load}\n"
    assert expected in result.source
    ast.parse(result.source)


def test_an_over_indented_search_is_matched_and_its_replacement_dedented() -> None:
    search = "        GROUP_M = 8  # tile-rows per group in the launch order, for L2 reuse"
    result = parsed(parse_response(edit(search, "        GROUP_M = 2"), MATMUL))
    assert "\nGROUP_M = 2\n" in result.source


def test_blank_line_differences_still_match() -> None:
    # The parent has a blank line between these two statements; the search text has none.
    comment = "    # Sweep 2: the biased variance around the mean. Reads cols * 4 bytes."
    search = f"    mean = tl.sum(acc, axis=0) / n_cols\n{comment}"
    assert "\n\n    # Sweep 2" in LAYERNORM
    result = parsed(
        parse_response(edit(search, "    mean = tl.sum(acc, axis=0) / n_cols  # mean"), LAYERNORM)
    )
    assert "/ n_cols  # mean\n" in result.source and "# Sweep 2" not in result.source


def test_a_search_that_matches_several_places_is_ambiguous() -> None:
    reason = failed(
        parse_response(edit("        offs = start + cols", "        offs = cols + start"), LAYERNORM),
        FailureKind.AMBIGUOUS_EDIT,
    )
    assert "3 places" in reason and "SEARCH block 1" in reason


def test_a_search_that_matches_nothing_names_its_block() -> None:
    reply = edit("GROUP_M = 8  # tile-rows per group in the launch order, for L2 reuse", "GROUP_M = 4")
    reply += edit("    pid = tl.program_id(axis=0)", "    pid = tl.program_id(0)")
    reason = failed(parse_response(reply, MATMUL), FailureKind.EDITS_DID_NOT_APPLY)
    assert "SEARCH block 2" in reason and "pid = tl.program_id(axis=0)" in reason


def test_edits_without_a_parent() -> None:
    failed(parse_response(edit("a", "b"), None), FailureKind.NO_PARENT)


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ("<<<<<<< SEARCH\nx = 1\n>>>>>>> REPLACE\n", "no ======= divider"),
        ("<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n", "not closed"),
        ("<<<<<<< SEARCH\n=======\nx = 2\n>>>>>>> REPLACE\n", "empty"),
    ],
)
def test_malformed_edit_blocks(reply: str, words: str) -> None:
    assert words in failed(parse_response(reply, SMALL), FailureKind.MALFORMED_EDIT)


def test_an_edit_that_breaks_the_syntax_is_reported_with_its_line() -> None:
    result = parse_response(edit("        return x * 2", "        return x *"), SMALL)
    assert "line 6" in failed(result, FailureKind.SYNTAX_ERROR)


def test_an_edit_that_removes_modelnew() -> None:
    result = parse_response(edit("class ModelNew(torch.nn.Module):", "class Model(torch.nn.Module):"), SMALL)
    failed(result, FailureKind.NO_MODELNEW)


def test_windows_line_endings_in_reply_and_parent() -> None:
    result = parsed(
        parse_response(
            edit("        return x * 2", "        return x * 5").replace("\n", "\r\n"),
            SMALL.replace("\n", "\r\n"),
        )
    )
    assert result.source == SMALL.replace("x * 2", "x * 5")


def test_an_empty_replacement_deletes_the_lines() -> None:
    result = parsed(
        parse_response(
            edit("GROUP_M = 8  # tile-rows per group in the launch order, for L2 reuse", ""), MATMUL
        )
    )
    assert "GROUP_M = 8" not in result.source and result.source.count("\n") == MATMUL.count("\n") - 1
