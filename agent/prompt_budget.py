"""Fitting a prompt into a token budget by cuts made in a fixed, stated order, each one reported.

The order, applied only while the prompt is still over budget:

1. drop inspirations, the last (least preferred) first;
2. drop failure notes, the oldest first;
3. shorten the parent's source, then the reference's, keeping their head and tail around a
   marker line (``# ... 120 lines cut to fit the prompt budget ...``), never below
   ``MIN_KEPT_LINES`` lines each.

A prompt that is still over budget after every cut raises ``PromptBudgetError`` rather than
going out silently too large. Nothing else (guidance, the task, judge advice) is ever cut.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from agent.prompt_types import ChatMessage
from kernels.errors import CrucibleError

TokenCounter = Callable[[str], int]
MIN_KEPT_LINES = 20  # a shortened source keeps at least this many lines, half at each end


class PromptBudgetError(CrucibleError):
    """The prompt does not fit ``max_prompt_tokens`` even after every allowed cut."""


def estimate_tokens(text: str) -> int:
    """About four characters a token, rounded up: the estimate when no tokenizer is given."""
    return math.ceil(len(text) / 4)


def cut_marker(lines_cut: int) -> str:
    return f"# ... {lines_cut} lines cut to fit the prompt budget ..."


def shorten_source(source: str, kept_lines: int | None) -> str:
    """The source with its middle replaced by a marker line, keeping ``kept_lines`` lines; None keeps all."""
    lines = source.splitlines()
    if kept_lines is None or kept_lines >= len(lines):
        return source
    head = (kept_lines + 1) // 2
    tail = kept_lines - head
    kept_tail = lines[len(lines) - tail :] if tail else []
    return "\n".join([*lines[:head], cut_marker(len(lines) - kept_lines), *kept_tail])


@dataclass(frozen=True)
class Trim:
    """How much of each cuttable part a rendering keeps; None keeps a source whole."""

    inspirations: int
    failures: int
    parent_lines: int | None = None
    reference_lines: int | None = None


@dataclass(frozen=True)
class BudgetPlan:
    """The cuttable parts of one prompt: labels to name dropped items by, and source lengths in lines."""

    inspiration_labels: tuple[str, ...]
    failure_labels: tuple[str, ...]
    parent_lines: int  # 0 when there is no parent
    reference_lines: int


@dataclass(frozen=True)
class Fitted:
    messages: tuple[ChatMessage, ...]
    tokens: int
    cuts: tuple[str, ...]


Render = Callable[[Trim], tuple[ChatMessage, ...]]


def count_messages(messages: Sequence[ChatMessage], count: TokenCounter) -> int:
    return sum(count(m.content) for m in messages)


def fit_to_budget(render: Render, plan: BudgetPlan, max_tokens: int, count: TokenCounter) -> Fitted:
    """Render, cutting in the module's stated order until the prompt fits."""

    def measure(trim: Trim) -> tuple[tuple[ChatMessage, ...], int]:
        messages = render(trim)
        return messages, count_messages(messages, count)

    trim = Trim(len(plan.inspiration_labels), len(plan.failure_labels))
    messages, tokens = measure(trim)
    cuts: list[str] = []
    total = len(plan.inspiration_labels)
    while tokens > max_tokens and trim.inspirations > 0:
        trim = replace(trim, inspirations=trim.inspirations - 1)
        label = plan.inspiration_labels[trim.inspirations]
        cuts.append(f"dropped inspiration {trim.inspirations + 1} of {total} ({label})")
        messages, tokens = measure(trim)
    total = len(plan.failure_labels)
    while tokens > max_tokens and trim.failures > 0:
        trim = replace(trim, failures=trim.failures - 1)
        label = plan.failure_labels[trim.failures]
        cuts.append(f"dropped failure note {trim.failures + 1} of {total}, the oldest left ({label})")
        messages, tokens = measure(trim)
    for part, lines in (("parent", plan.parent_lines), ("reference", plan.reference_lines)):
        # Keeping n - 1 lines would swap one line for the marker: cut at least two or none.
        if tokens <= max_tokens or lines - 2 < MIN_KEPT_LINES:
            continue
        kept = _most_lines_that_fit(lambda t: measure(t)[1], trim, part, lines, max_tokens)
        trim = _keep(trim, part, kept)
        head = (kept + 1) // 2
        cuts.append(
            f"shortened the {part} source: cut {lines - kept} of {lines} lines from the middle,"
            f" kept the first {head} and the last {kept - head}"
        )
        messages, tokens = measure(trim)
    if tokens > max_tokens:
        done = "; ".join(cuts) or "nothing was cuttable"
        raise PromptBudgetError(
            f"the prompt needs {tokens} tokens after every allowed cut ({done}),"
            f" over max_prompt_tokens={max_tokens}; raise the budget or select fewer guidance snippets"
        )
    return Fitted(messages, tokens, tuple(cuts))


def _keep(trim: Trim, part: str, kept: int) -> Trim:
    if part == "parent":
        return replace(trim, parent_lines=kept)
    return replace(trim, reference_lines=kept)


def _most_lines_that_fit(
    tokens_of: Callable[[Trim], int], trim: Trim, part: str, lines: int, max_tokens: int
) -> int:
    """The most lines of ``part`` (MIN_KEPT_LINES up to lines - 2) that fit; the minimum if none does."""
    low, high = MIN_KEPT_LINES, lines - 2
    if tokens_of(_keep(trim, part, low)) > max_tokens:
        return low
    while low < high:  # invariant: keeping ``low`` lines fits
        mid = (low + high + 1) // 2
        if tokens_of(_keep(trim, part, mid)) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return low
