"""The prompts of Crucible's LLM agent: a writer that proposes candidates and a judge that advises it.

Both prompts are two messages. The system message is the role's text and the selected guidance
snippets; it depends only on the role and the snippet ids, so it stays a stable prefix that an
endpoint's prompt cache can reuse across calls. The user message frames each part of
``PromptInputs`` with the sections of ``sections.md`` and ends with the role's task. Rendering is
a pure function of its inputs: the same inputs give the same prompt, byte for byte.

Prompts are kept within ``max_prompt_tokens`` by the cuts ``agent.prompt_budget`` describes; the
cuts made come back in ``BuiltPrompt.cuts`` so the caller can record them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from string import Template

from agent.prompt_budget import (
    BudgetPlan,
    Render,
    TokenCounter,
    Trim,
    estimate_tokens,
    fit_to_budget,
    shorten_source,
)
from agent.prompt_types import (
    BuiltPrompt,
    ChatMessage,
    DeviceFacts,
    EditMode,
    FailureNote,
    Inspiration,
    ParentBrief,
    ProblemBrief,
    PromptInputs,
    ShapeLine,
    format_bytes,
    summarize_metrics,
)
from agent.prompts import Snippet, guidance_snippets, load_template, select_guidance, template_sections

__all__ = [
    "DEFAULT_MAX_PROMPT_TOKENS",
    "BuiltPrompt",
    "ChatMessage",
    "DeviceFacts",
    "EditMode",
    "FailureNote",
    "Inspiration",
    "ParentBrief",
    "ProblemBrief",
    "PromptInputs",
    "ShapeLine",
    "Snippet",
    "build_judge_prompt",
    "build_writer_prompt",
    "guidance_snippets",
    "load_template",
    "summarize_metrics",
]

DEFAULT_MAX_PROMPT_TOKENS = 16_000
GUIDANCE_HEADING = "# How Crucible judges a candidate, and how to write one"


def build_writer_prompt(
    inputs: PromptInputs,
    *,
    max_prompt_tokens: int = DEFAULT_MAX_PROMPT_TOKENS,
    count_tokens: TokenCounter | None = None,
) -> BuiltPrompt:
    """The writer's prompt: everything in ``inputs``, asking for a full file or edits of the parent."""
    if inputs.edit_mode is EditMode.DIFF and inputs.parent is None:
        raise ValueError("EditMode.DIFF asks for edits of the parent, but these inputs have no parent")
    role = template_sections("writer")
    system = _system_message(role["system"], inputs.guidance_ids)
    task = role["task_diff" if inputs.edit_mode is EditMode.DIFF else "task_full"]

    def render(trim: Trim) -> tuple[ChatMessage, ...]:
        parts = [
            _problem(inputs.problem, trim.reference_lines),
            _device(inputs.device),
            _parent(inputs.parent, trim.parent_lines),
            _inspirations(inputs.inspirations[: trim.inspirations]),
            _failures(inputs.failures[: trim.failures]),
            _tips(inputs.tips),
            _section("judge_advice", advice=inputs.judge_advice.strip()) if inputs.judge_advice else "",
            task,
        ]
        return system, ChatMessage("user", _join(parts))

    return _fit(render, inputs, inputs.inspirations, max_prompt_tokens, count_tokens)


def build_judge_prompt(
    inputs: PromptInputs,
    *,
    max_prompt_tokens: int = DEFAULT_MAX_PROMPT_TOKENS,
    count_tokens: TokenCounter | None = None,
) -> BuiltPrompt:
    """The judge's prompt: the parent, its measurements and the recent failures, asking for ONE change.

    Inspirations and any earlier advice are left out: the judge reasons from the parent's own figures.
    """
    if inputs.parent is None:
        raise ValueError("the judge reads a parent's measurements, but these inputs have no parent")
    role = template_sections("judge")
    system = _system_message(role["system"], inputs.guidance_ids)

    def render(trim: Trim) -> tuple[ChatMessage, ...]:
        parts = [
            _problem(inputs.problem, trim.reference_lines),
            _device(inputs.device),
            _parent(inputs.parent, trim.parent_lines),
            _failures(inputs.failures[: trim.failures]),
            role["task"],
        ]
        return system, ChatMessage("user", _join(parts))

    return _fit(render, inputs, (), max_prompt_tokens, count_tokens)


def _fit(
    render: Render,
    inputs: PromptInputs,
    inspirations: Sequence[Inspiration],
    max_prompt_tokens: int,
    count_tokens: TokenCounter | None,
) -> BuiltPrompt:
    plan = BudgetPlan(
        inspiration_labels=tuple(i.label for i in inspirations),
        failure_labels=tuple(f.label for f in inputs.failures),
        parent_lines=len(inputs.parent.source.splitlines()) if inputs.parent else 0,
        reference_lines=len(inputs.problem.reference_source.splitlines()),
    )
    fitted = fit_to_budget(render, plan, max_prompt_tokens, count_tokens or estimate_tokens)
    return BuiltPrompt(fitted.messages, fitted.tokens, fitted.cuts)


def _system_message(role_text: str, guidance_ids: tuple[str, ...] | None) -> ChatMessage:
    snippets = select_guidance(guidance_ids)
    blocks = [f"## {s.id}\n\n{s.text}" for s in snippets]
    return ChatMessage("system", _join([role_text, GUIDANCE_HEADING if blocks else "", *blocks]))


def _problem(problem: ProblemBrief, kept_lines: int | None) -> str:
    reference = _code(shorten_source(problem.reference_source, kept_lines))
    return _section("problem", name=problem.name, reference=reference, shapes=problem.shapes.strip())


def _device(device: DeviceFacts | None) -> str:
    if device is None:
        return ""
    facts = []
    if device.name is not None:
        facts.append(f"- name: {device.name}")
    if device.sms is not None:
        facts.append(f"- streaming multiprocessors (SMs): {device.sms}")
    if device.mem_bandwidth_gbps is not None:
        facts.append(f"- peak memory bandwidth: {device.mem_bandwidth_gbps:g} GB/s")
    if device.peak_tflops is not None:
        facts.append(f"- peak compute: {device.peak_tflops:g} TFLOP/s")
    if device.l2_bytes is not None:
        facts.append(f"- L2 cache: {format_bytes(device.l2_bytes)}")
    return _section("device", facts="\n".join(facts)) if facts else ""


def _parent(parent: ParentBrief | None, kept_lines: int | None) -> str:
    if parent is None:
        return _section("no_parent")
    config = f" (measured under CONFIG: {parent.config})" if parent.config else ""
    source = _code(shorten_source(parent.source, kept_lines))
    label = f": {parent.label}" if parent.label else ""
    parts = [_section("parent", label=label, config=config, source=source)]
    if parent.metrics:
        lines = "\n".join(f"- {line.render()}" for line in parent.metrics)
        parts.append(_section("parent_metrics", lines=lines))
    if parent.profile_summary:
        parts.append(_section("parent_profile", summary=parent.profile_summary.strip()))
    if parent.roofline:
        parts.append(_section("parent_roofline", roofline=parent.roofline.strip()))
    return _join(parts)


def _inspirations(items: Sequence[Inspiration]) -> str:
    if not items:
        return ""
    rendered = [
        _section("inspiration", label=i.label, metrics=i.metrics.strip(), source=_code(i.source))
        for i in items
    ]
    return _section("inspirations", items=_join(rendered))


def _failures(items: Sequence[FailureNote]) -> str:
    if not items:
        return ""
    # A reason of several lines stays inside its list item.
    lines = "\n".join(f"- {f.label}: {f.status}: {_indent(f.reason.strip())}" for f in items)
    return _section("failures", items=lines)


def _tips(tips: Sequence[Snippet]) -> str:
    if not tips:
        return ""
    return _section("tips", items="\n".join(f"- **{t.id}**: {_indent(t.text.strip())}" for t in tips))


def _section(section: str, **values: str) -> str:
    return Template(template_sections("sections")[section]).substitute(values)


def _code(source: str) -> str:
    """A fenced Python block, its fence longer than any run of backticks inside the source."""
    runs = [len(m) for m in re.findall(r"`{3,}", source)]
    fence = "`" * max([3, *(n + 1 for n in runs)])
    return f"{fence}python\n{source.rstrip()}\n{fence}"


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _join(parts: Sequence[str]) -> str:
    return "\n\n".join(p for p in parts if p)
