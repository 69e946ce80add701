"""Turn an LLM response into a candidate source, or into a reason the next prompt can quote.

A response is either a whole file in a fenced block or SEARCH/REPLACE edits of the parent:

    <<<<<<< SEARCH
    old lines
    =======
    new lines
    >>>>>>> REPLACE

Models drift in whitespace, so each SEARCH text is matched in stages: exactly, then ignoring
trailing whitespace, then as a block shifted by one uniform indentation (the replacement is
shifted the same way), then ignoring blank lines. The first stage with any match decides: one
match applies, several are ambiguous. The response is untrusted text: it is parsed with
``ast`` and never executed or imported.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class ResponseMode(str, Enum):
    FULL_FILE = "full_file"
    EDITS = "edits"


class FailureKind(str, Enum):
    NO_CODE = "no_code"
    MALFORMED_EDIT = "malformed_edit"
    NO_PARENT = "no_parent"
    EDITS_DID_NOT_APPLY = "edits_did_not_apply"
    AMBIGUOUS_EDIT = "ambiguous_edit"
    SYNTAX_ERROR = "syntax_error"
    TOO_LONG = "too_long"
    NO_MODELNEW = "no_modelnew"


@dataclass(frozen=True)
class ParsedSource:
    source: str
    mode: ResponseMode
    edits_applied: int = 0


@dataclass(frozen=True)
class ParseFailure:
    """Why a response gave no candidate; ``reason`` is short enough to quote in the next prompt."""

    kind: FailureKind
    reason: str


@dataclass(frozen=True)
class Edit:
    search: str
    replace: str


_SEARCH = re.compile(r"^\s*<{5,9}\s*SEARCH\b.*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9}\s*REPLACE\b.*$")
_FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+.-]*)[^`]*$")
_PYTHON_TAGS = {"", "python", "py", "python3"}
_MODELNEW = re.compile(r"^\s*class\s+ModelNew\b", re.MULTILINE)


def parse_response(
    text: str, parent_source: str | None, *, max_chars: int = 200_000
) -> ParsedSource | ParseFailure:
    """The candidate a response describes: SEARCH/REPLACE edits of the parent, else a full file."""
    if len(text) > max_chars:
        return ParseFailure(
            FailureKind.TOO_LONG,
            f"the response has {len(text):,} characters, over the limit of {max_chars:,}",
        )
    text = text.replace("\r\n", "\n")
    edits = parse_edits(text)
    if isinstance(edits, ParseFailure):
        return edits
    if edits:
        if parent_source is None:
            return ParseFailure(FailureKind.NO_PARENT, "SEARCH/REPLACE edits need a parent; send a full file")
        applied = apply_edits(parent_source.replace("\r\n", "\n"), edits)
        if isinstance(applied, ParseFailure):
            return applied
        return _validated(applied, ResponseMode.EDITS, len(edits))
    block = _pick_block(fenced_blocks(text))
    if block is None:
        if _MODELNEW.search(text):  # bare code with no fences at all
            return _validated(text, ResponseMode.FULL_FILE, 0)
        return ParseFailure(FailureKind.NO_CODE, "no ```python block and no SEARCH/REPLACE edits were found")
    return _validated(block, ResponseMode.FULL_FILE, 0)


def parse_edits(text: str) -> list[Edit] | ParseFailure:
    """The SEARCH/REPLACE blocks of a response in order; lines outside them (fences, prose) are ignored."""
    edits: list[Edit] = []
    section: list[str] | None = None
    search: list[str] | None = None
    for line in text.split("\n"):
        number = len(edits) + 1
        if section is None:
            if _SEARCH.match(line):
                section, search = [], None
        elif search is None:
            if _DIVIDER.match(line):
                search, section = section, []
            elif _SEARCH.match(line) or _REPLACE.match(line):
                return ParseFailure(FailureKind.MALFORMED_EDIT, f"edit block {number} has no ======= divider")
            else:
                section.append(line)
        elif _REPLACE.match(line):
            edits.append(Edit("\n".join(_unfenced(search)), "\n".join(_unfenced(section))))
            section, search = None, None
        elif _SEARCH.match(line) or _DIVIDER.match(line):
            return ParseFailure(
                FailureKind.MALFORMED_EDIT, f"edit block {number} has no >>>>>>> REPLACE line"
            )
        else:
            section.append(line)
    if section is not None:
        return ParseFailure(FailureKind.MALFORMED_EDIT, f"edit block {len(edits) + 1} is not closed")
    return edits


def _unfenced(lines: list[str]) -> list[str]:
    """A section wrapped in its own code fence, as some models write them, without the fence."""
    if len(lines) >= 2 and _FENCE_OPEN.match(lines[0]) and lines[-1].strip().startswith(("```", "~~~")):
        return lines[1:-1]
    return lines


def fenced_blocks(text: str) -> list[str]:
    """The contents of Python (or untagged) fenced blocks; an unclosed last fence runs to the end."""
    blocks: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, tag = opening.group(1), opening.group(2).lower()
        end = i + 1
        while end < len(lines) and not _closes(lines[end], fence):
            end += 1
        if tag in _PYTHON_TAGS:
            blocks.append(textwrap.dedent("\n".join(lines[i + 1 : end])).strip("\n") + "\n")
        i = end + 1
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and set(stripped) == {fence[0]}


def _pick_block(blocks: list[str]) -> str | None:
    """The last block that defines ModelNew and parses, else the last that defines it, else the longest."""
    defining = [b for b in blocks if _MODELNEW.search(b)]
    parsing = [b for b in defining if isinstance(_validated(b, ResponseMode.FULL_FILE, 0), ParsedSource)]
    return (parsing or defining or [max(blocks, key=len, default="")])[-1] or None


def _validated(source: str, mode: ResponseMode, edits: int) -> ParsedSource | ParseFailure:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        lines = source.split("\n")
        shown = lines[exc.lineno - 1].strip()[:80] if exc.lineno and exc.lineno <= len(lines) else ""
        where = f" at line {exc.lineno}" if exc.lineno else ""
        return ParseFailure(
            FailureKind.SYNTAX_ERROR, f"syntax error{where}: {exc.msg}" + (f": {shown}" if shown else "")
        )
    except ValueError as exc:  # null bytes
        return ParseFailure(FailureKind.SYNTAX_ERROR, f"the source cannot be parsed: {exc}")
    if not any(isinstance(node, ast.ClassDef) and node.name == "ModelNew" for node in tree.body):
        return ParseFailure(
            FailureKind.NO_MODELNEW, "the code parses but defines no top-level class ModelNew"
        )
    return ParsedSource(source if source.endswith("\n") else source + "\n", mode, edits)


def apply_edits(parent: str, edits: list[Edit]) -> str | ParseFailure:
    """Apply the edits in order, each to the result of the ones before it."""
    text = parent
    for number, edit in enumerate(edits, start=1):
        result = _apply_one(text, edit, number)
        if isinstance(result, ParseFailure):
            return result
        text = result
    return text


Shift = Callable[[str], str]  # re-indents a replacement line the way the match was shifted
Match = tuple[int, int, Shift]  # start line, end line (exclusive), re-indenter


def _apply_one(text: str, edit: Edit, number: int) -> str | ParseFailure:
    lines, search = text.split("\n"), edit.search.split("\n")
    first = next((s.strip() for s in search if s.strip()), "")
    if not first:
        return ParseFailure(
            FailureKind.MALFORMED_EDIT, f"SEARCH block {number} is empty; quote lines to replace"
        )
    label = f"SEARCH block {number} (first line `{first[:60]}`)"
    stages: list[Callable[[list[str]], Shift | None]] = [
        lambda window: _same if window == search else None,
        lambda window: _same if [w.rstrip() for w in window] == [s.rstrip() for s in search] else None,
        lambda window: _uniform_shift(window, search),
    ]
    for stage in stages:
        matches = [
            (i, i + len(search), shift)
            for i in range(len(lines) - len(search) + 1)
            if (shift := stage(lines[i : i + len(search)])) is not None
        ]
        if matches:
            break
    else:
        matches = _blank_lines(lines, search)
    if len(matches) > 1:
        return ParseFailure(
            FailureKind.AMBIGUOUS_EDIT,
            f"{label} matches {len(matches)} places in the parent; quote more lines",
        )
    if not matches:
        return ParseFailure(FailureKind.EDITS_DID_NOT_APPLY, f"{label} matches nothing in the parent")
    start, end, shift = matches[0]
    replacement = [shift(line) for line in edit.replace.split("\n")] if edit.replace else []
    return "\n".join(lines[:start] + replacement + lines[end:])


def _same(line: str) -> str:
    return line


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _uniform_shift(window: list[str], search: list[str]) -> Shift | None:
    """A re-indenter when ``window`` is ``search`` shifted by one indentation, blank lines aside."""
    pairs = [(w.rstrip(), s.rstrip()) for w, s in zip(window, search, strict=True)]
    if any(bool(w) != bool(s) for w, s in pairs) or not any(s for _, s in pairs):
        return None
    nonblank = [(w, s) for w, s in pairs if s]
    w_indent, s_indent = _indent(nonblank[0][0]), _indent(nonblank[0][1])
    if w_indent.startswith(s_indent):
        extra = w_indent[len(s_indent) :]
        if all(w == extra + s for w, s in nonblank):
            return lambda line: extra + line if line.strip() else line
    elif s_indent.startswith(w_indent):
        cut = s_indent[len(w_indent) :]
        if all(s.startswith(cut) and w == s[len(cut) :] for w, s in nonblank):
            return lambda line: line[len(cut) :] if line.startswith(cut) else line.lstrip()
    return None


def _blank_lines(lines: list[str], search: list[str]) -> list[Match]:
    """Match the non-blank lines of ``search`` against the parent's, skipping blank lines in both."""
    wanted = [s for s in search if s.strip()]
    found: list[Match] = []
    for start in (i for i, line in enumerate(lines) if line.strip()):
        taken: list[str] = []
        end = start
        while end < len(lines) and len(taken) < len(wanted):
            if lines[end].strip():
                taken.append(lines[end])
            end += 1
        if len(taken) < len(wanted):
            break
        if (shift := _uniform_shift(taken, wanted)) is not None:
            found.append((start, end, shift))
    return found
