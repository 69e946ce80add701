"""The prompt builder: templates as package data, every input in the prompt, budget cuts in order."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from fnmatch import fnmatch
from pathlib import Path

import pytest

from agent.prompt_budget import MIN_KEPT_LINES, PromptBudgetError, cut_marker, estimate_tokens, shorten_source
from agent.prompting import (
    DEFAULT_MAX_PROMPT_TOKENS,
    DeviceFacts,
    EditMode,
    FailureNote,
    Inspiration,
    ParentBrief,
    ProblemBrief,
    PromptInputs,
    ShapeLine,
    build_judge_prompt,
    build_writer_prompt,
    guidance_snippets,
    load_template,
    summarize_metrics,
)
from agent.prompts import split_sections
from evaluator.checks.static_gate import CRUCIBLE_PACKAGES, FORBIDDEN_CALLS, FORBIDDEN_MODULES
from evaluator.limits import EvalLimits
from evaluator.types import ShapeMetrics
from kernels.families import load_families
from kernels.problem import load_problem

ROOT = Path(__file__).resolve().parents[2]
PROMPTS_DIR = ROOT / "agent" / "prompts"
TEMPLATES = ("guidance", "writer", "judge", "sections")


def numbered_source(name: str, lines: int) -> str:
    """A source whose every line is distinct, so a test can tell which lines were kept."""
    return "\n".join(f"{name}_line_{i:03d} = {i}  # filler" for i in range(lines))


@pytest.fixture
def softmax_inputs() -> PromptInputs:
    """Inputs built from the real softmax problem and its real variant families."""
    problem = load_problem("softmax")
    families = {f.name: f for f in load_families(problem)}
    metrics = (
        ShapeLine.from_metrics(
            ShapeMetrics(
                shape="small",
                median_us=12.34,
                ref_median_us=40.1,
                speedup=3.25,
                max_abs_err=1.5e-7,
                peak_mem_bytes=3 * 2**20,
                achieved_gbps=812.0,
                peak_fraction=0.169,
            )
        ),
        ShapeLine("wide", median_us=1500.0, achieved_tflops=1.25, interpreted=False),
    )
    return PromptInputs(
        problem=ProblemBrief.from_problem(problem, "cuda"),
        parent=ParentBrief(
            source=families["triton_rowwise"].source,
            metrics=metrics,
            profile_summary="1 kernel; top: softmax_rowwise_kernel 100% of 12.3 us",
            roofline="memory-bound: 812 GB/s, 17% of HBM peak",
            label="cand-7f3a",
            config="num_warps=4, rows_per_program=1",
        ),
        inspirations=(
            Inspiration("triton_online", families["triton_online"].source, "online-insp 2.10x geomean"),
            Inspiration("torch_fused", families["torch_fused"].source, "fused-insp 1.40x geomean"),
        ),
        failures=(
            FailureNote("cand-new", "wrong_output", "shape wide: max_abs_err 3.1e-01 over tolerance"),
            FailureNote("cand-old", "compile_error", "syntax error at line 12: invalid syntax"),
        ),
        device=DeviceFacts(
            "NVIDIA H200", sms=132, mem_bandwidth_gbps=4800.0, peak_tflops=67.0, l2_bytes=50 * 2**20
        ),
        judge_advice="Raise rows_per_program for narrow rows: the grid leaves SMs idle.",
    )


def user_text(built_messages: tuple) -> str:
    return next(m.content for m in built_messages if m.role == "user")


def system_text(built_messages: tuple) -> str:
    return next(m.content for m in built_messages if m.role == "system")


# --- templates -------------------------------------------------------------------------------


def test_every_template_loads_and_is_declared_package_data() -> None:
    # tomllib is not in Python 3.10, which Crucible supports: read the one line by pattern.
    declared = re.search(r"^agent = \[(.*)\]$", (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert declared, "pyproject.toml declares no package data for agent"
    patterns = re.findall(r'"([^"]+)"', declared.group(1))
    for name in TEMPLATES:
        text = load_template(name)
        assert text == (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")
        assert split_sections(text), f"{name}.md has no ## sections"
        assert any(fnmatch(f"prompts/{name}.md", p) for p in patterns)
    with pytest.raises(FileNotFoundError, match="no_such_template"):
        load_template("no_such_template")


def test_templates_load_from_a_zip_with_no_files_on_disk(tmp_path: Path) -> None:
    """importlib.resources, not file paths: the templates load from a zipped package too."""
    archive = tmp_path / "agent.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(ROOT / "agent" / "__init__.py", "agent/__init__.py")
        for path in sorted(PROMPTS_DIR.iterdir()):
            if path.suffix in (".py", ".md"):
                zf.write(path, f"agent/prompts/{path.name}")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import agent.prompts as p; assert p.__file__.startswith(sys.argv[1]), p.__file__;"
        "print(','.join(s.id for s in p.guidance_snippets()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(archive)], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == ",".join(s.id for s in guidance_snippets())


def test_sections_split_on_headings_outside_code_fences() -> None:
    text = "preamble\n## one\nbody 1\n```python\n## not a heading\n```\n## two\nbody 2\n"
    sections = split_sections(text)
    assert [s.id for s in sections] == ["one", "two"]
    assert "## not a heading" in sections[0].text
    with pytest.raises(ValueError, match="repeated"):
        split_sections("## a\nx\n## a\ny\n")


# --- guidance --------------------------------------------------------------------------------


def test_guidance_snippets_are_named_and_selectable(softmax_inputs: PromptInputs) -> None:
    ids = [s.id for s in guidance_snippets()]
    assert ids[:4] == ["contract", "config", "correctness-checks", "static-gate"]
    assert len(set(ids)) == len(ids) and all(s.text for s in guidance_snippets())

    everything = system_text(build_writer_prompt(softmax_inputs).messages)
    assert all(f"## {i}\n" in everything for i in ids)

    chosen = build_writer_prompt(replace(softmax_inputs, guidance_ids=("timing", "contract"))).messages
    system = system_text(chosen)
    assert system.index("## timing\n") < system.index("## contract\n")
    assert "## static-gate" not in system and "## config\n" not in system

    bare = system_text(build_writer_prompt(replace(softmax_inputs, guidance_ids=())).messages)
    assert "## contract" not in bare and "How Crucible judges" not in bare

    with pytest.raises(ValueError, match="unknown guidance snippet ids \\['nope'\\]"):
        build_writer_prompt(replace(softmax_inputs, guidance_ids=("contract", "nope")))


def test_guidance_states_the_static_gate_and_limits_as_the_code_has_them() -> None:
    """The guidance names every rule the gate applies and the evaluator's real default limits."""
    snippets = {s.id: s.text for s in guidance_snippets()}
    gate = snippets["static-gate"]
    for name in [*FORBIDDEN_MODULES, *FORBIDDEN_CALLS, *CRUCIBLE_PACKAGES]:
        assert f"`{name}`" in gate, f"static-gate snippet does not mention {name}"
    limits = EvalLimits()
    timing = snippets["timing"]
    assert f"{limits.max_plausible_speedup:g}x" in timing
    assert f"{limits.warmup_ms:g} ms warm-up" in timing
    assert f"under {limits.graph_below_us:g} us" in timing
    assert "CONFIG[" in snippets["config"] and "CONFIG_SPACE" in snippets["config"]
    assert "class ModelNew(torch.nn.Module)" in snippets["contract"]


# --- the writer's prompt ---------------------------------------------------------------------


def test_every_input_field_appears_in_the_writer_prompt(softmax_inputs: PromptInputs) -> None:
    built = build_writer_prompt(softmax_inputs)
    assert [m.role for m in built.messages] == ["system", "user"]
    text = user_text(built.messages)
    inputs = softmax_inputs
    assert inputs.parent is not None and inputs.device is not None
    expected = [
        "# The problem: softmax",
        inputs.problem.reference_source.strip(),
        "llm_vocab (rows=4096, cols=32768)",
        inputs.parent.source.strip(),
        "# The parent: cand-7f3a",
        "measured under CONFIG: num_warps=4, rows_per_program=1",
        "- small: 12.3 us against the reference's 40.1 us (3.25x); max_abs_err 1.5e-07; peak memory 3.0 MiB;"
        " 812 GB/s; 17% of the device's peak",
        "- wide: 1.50 ms; 1.25 TFLOP/s",
        "Profiler: 1 kernel; top: softmax_rowwise_kernel 100% of 12.3 us",
        "Roofline: memory-bound: 812 GB/s, 17% of HBM peak",
        "**triton_online**: online-insp 2.10x geomean",
        inputs.inspirations[0].source.strip(),
        "**torch_fused**: fused-insp 1.40x geomean",
        inputs.inspirations[1].source.strip(),
        "- cand-new: wrong_output: shape wide: max_abs_err 3.1e-01 over tolerance",
        "- cand-old: compile_error: syntax error at line 12: invalid syntax",
        "- name: NVIDIA H200",
        "- streaming multiprocessors (SMs): 132",
        "- peak memory bandwidth: 4800 GB/s",
        "- peak compute: 67 TFLOP/s",
        "- L2 cache: 50.0 MiB",
        "Raise rows_per_program for narrow rows: the grid leaves SMs idle.",
        "fenced code block that starts with ```python",
    ]
    for piece in expected:
        assert piece in text, f"missing from the prompt: {piece!r}"
    cpu_brief = ProblemBrief.from_problem(load_problem("softmax"), "cpu")
    assert cpu_brief.shapes == "small (rows=64, cols=512); wide (rows=128, cols=2048)"
    assert (
        text.index("# Recent failures") < text.index("# Advice on what to change") < text.index("# Your task")
    )
    assert text.rstrip().endswith(
        "fenced code block that starts with ```python. Put nothing else in a\ncode block."
    )


def test_under_budget_no_cuts_and_the_estimate_is_chars_over_four(softmax_inputs: PromptInputs) -> None:
    built = build_writer_prompt(softmax_inputs)
    assert built.cuts == ()
    assert built.estimated_tokens == sum(-(-len(m.content) // 4) for m in built.messages)
    assert built.estimated_tokens <= DEFAULT_MAX_PROMPT_TOKENS
    assert "lines cut to fit the prompt budget ..." not in user_text(built.messages)


def test_a_given_tokenizer_is_used(softmax_inputs: PromptInputs) -> None:
    def words(text: str) -> int:
        return len(text.split())

    built = build_writer_prompt(softmax_inputs, count_tokens=words)
    assert built.estimated_tokens == sum(words(m.content) for m in built.messages)
    assert built.estimated_tokens < build_writer_prompt(softmax_inputs).estimated_tokens


def test_no_parent_asks_for_a_first_candidate(softmax_inputs: PromptInputs) -> None:
    inputs = replace(softmax_inputs, parent=None, judge_advice=None)
    text = user_text(build_writer_prompt(inputs).messages)
    assert "# No parent yet" in text and "# The parent" not in text and "Advice" not in text
    with pytest.raises(ValueError, match="no parent"):
        build_writer_prompt(replace(inputs, edit_mode=EditMode.DIFF))


def test_diff_mode_asks_for_search_replace_edits(softmax_inputs: PromptInputs) -> None:
    text = user_text(build_writer_prompt(replace(softmax_inputs, edit_mode=EditMode.DIFF)).messages)
    assert "<<<<<<< SEARCH\n" in text and "\n=======\n" in text and "\n>>>>>>> REPLACE" in text
    full = user_text(build_writer_prompt(softmax_inputs).messages)
    assert "<<<<<<< SEARCH" not in full


def test_the_same_inputs_give_the_same_prompt(softmax_inputs: PromptInputs) -> None:
    first = build_writer_prompt(softmax_inputs, max_prompt_tokens=5000)
    again = build_writer_prompt(replace(softmax_inputs), max_prompt_tokens=5000)
    assert first == again and first.cuts  # cut prompts too
    assert build_judge_prompt(softmax_inputs) == build_judge_prompt(softmax_inputs)


def test_a_source_holding_a_fence_gets_a_longer_one(softmax_inputs: PromptInputs) -> None:
    source = 'DOC = """\n```python\nx = 1\n```\n"""\n'
    inputs = replace(softmax_inputs, parent=ParentBrief(source=source))
    text = user_text(build_writer_prompt(inputs).messages)
    assert f"````python\n{source.rstrip()}\n````" in text


# --- the budget ------------------------------------------------------------------------------


@pytest.fixture
def heavy_inputs(softmax_inputs: PromptInputs) -> PromptInputs:
    """Three inspirations, three failures, a 300-line parent and a 200-line reference."""
    return replace(
        softmax_inputs,
        problem=replace(softmax_inputs.problem, reference_source=numbered_source("ref", 200)),
        parent=ParentBrief(source=numbered_source("par", 300), label="p"),
        inspirations=tuple(
            Inspiration(f"insp{i}", numbered_source(f"insp{i}", 40), f"m{i}") for i in (1, 2, 3)
        ),
        failures=tuple(FailureNote(f"fail{i}", "runtime_error", f"reason number {i}") for i in (1, 2, 3)),
    )


def test_cuts_follow_the_stated_order(heavy_inputs: PromptInputs) -> None:
    full = build_writer_prompt(heavy_inputs, max_prompt_tokens=10**6).estimated_tokens

    one = build_writer_prompt(heavy_inputs, max_prompt_tokens=full - 1)
    assert one.cuts == ("dropped inspiration 3 of 3 (insp3)",)
    text = user_text(one.messages)
    assert "insp3_line" not in text and "insp2_line_039" in text

    # Room for about half the parent once inspirations and failures are gone, and none for them.
    assert heavy_inputs.parent is not None
    without_extras = replace(heavy_inputs, inspirations=(), failures=())
    tiny_parent = replace(without_extras, parent=replace(heavy_inputs.parent, source="x = 1"))
    whole = build_writer_prompt(without_extras, max_prompt_tokens=10**6).estimated_tokens
    parent_tokens = whole - build_writer_prompt(tiny_parent, max_prompt_tokens=10**6).estimated_tokens
    budget = whole - parent_tokens // 2
    built = build_writer_prompt(heavy_inputs, max_prompt_tokens=budget)
    assert built.cuts[:6] == (
        "dropped inspiration 3 of 3 (insp3)",
        "dropped inspiration 2 of 3 (insp2)",
        "dropped inspiration 1 of 3 (insp1)",
        "dropped failure note 3 of 3, the oldest left (fail3)",
        "dropped failure note 2 of 3, the oldest left (fail2)",
        "dropped failure note 1 of 3, the oldest left (fail1)",
    )
    assert len(built.cuts) == 7 and built.cuts[6].startswith("shortened the parent source: cut ")
    assert built.estimated_tokens <= budget
    text = user_text(built.messages)
    assert "# Other candidates" not in text and "# Recent failures" not in text
    assert "par_line_000" in text and "par_line_299" in text and "par_line_150" not in text
    assert "ref_line_100" in text  # the reference is cut only after the parent
    assert "lines cut to fit the prompt budget ..." in text
    # The guidance, the task and the judge's advice are never cut.
    assert system_text(built.messages) == system_text(one.messages)
    assert heavy_inputs.judge_advice and heavy_inputs.judge_advice in text and "# Your task" in text


def test_a_tight_budget_shortens_the_reference_after_the_parent(heavy_inputs: PromptInputs) -> None:
    assert heavy_inputs.parent is not None
    bare = replace(
        heavy_inputs,
        problem=replace(heavy_inputs.problem, reference_source="x = 1"),
        parent=replace(heavy_inputs.parent, source="x = 1"),
        inspirations=(),
        failures=(),
    )
    budget = build_writer_prompt(bare, max_prompt_tokens=10**6).estimated_tokens + 600
    built = build_writer_prompt(heavy_inputs, max_prompt_tokens=budget)
    assert built.cuts[6].startswith("shortened the parent source: cut 280 of 300 lines")
    assert built.cuts[7].startswith("shortened the reference source: cut ")
    assert len(built.cuts) == 8 and built.estimated_tokens <= budget
    text = user_text(built.messages)
    assert cut_marker(280) in text
    assert "ref_line_000" in text and "ref_line_199" in text and "ref_line_100" not in text


def test_a_budget_no_cut_can_meet_raises_and_says_what_was_cut(heavy_inputs: PromptInputs) -> None:
    with pytest.raises(PromptBudgetError, match=r"after every allowed cut \(dropped inspiration 3 of 3"):
        build_writer_prompt(heavy_inputs, max_prompt_tokens=500)


def test_shorten_source_keeps_head_and_tail_around_a_marker() -> None:
    source = numbered_source("s", 100)
    short = shorten_source(source, 21).splitlines()
    assert len(short) == 22
    assert short[:11] == source.splitlines()[:11] and short[12:] == source.splitlines()[-10:]
    assert short[11] == "# ... 79 lines cut to fit the prompt budget ..."
    assert shorten_source(source, None) == source and shorten_source(source, 100) == source
    assert MIN_KEPT_LINES >= 2 and estimate_tokens("abcde") == 2


# --- the judge -------------------------------------------------------------------------------


def test_judge_advice_goes_to_the_writer_and_the_judge_reads_the_parent(softmax_inputs: PromptInputs) -> None:
    advice = softmax_inputs.judge_advice
    assert advice
    assert advice in user_text(build_writer_prompt(softmax_inputs).messages)

    judge = build_judge_prompt(softmax_inputs)
    system, text = system_text(judge.messages), user_text(judge.messages)
    assert "You review GPU kernels for Crucible" in system and "## static-gate" in system
    assert "Name the ONE change" in text
    assert softmax_inputs.parent is not None
    assert softmax_inputs.parent.source.strip() in text
    assert "Profiler: 1 kernel" in text and "Roofline: memory-bound" in text and "3.25x" in text
    assert "cand-new: wrong_output" in text
    assert advice not in text and "online-insp" not in text and "# Your task" in text
    with pytest.raises(ValueError, match="no parent"):
        build_judge_prompt(replace(softmax_inputs, parent=None))


def test_one_line_metrics_for_inspirations() -> None:
    lines = [ShapeLine("a", speedup=2.0, max_abs_err=1e-6), ShapeLine("b", speedup=8.0, max_abs_err=3e-6)]
    assert summarize_metrics(lines) == "4.00x geometric mean (a 2.00x, b 8.00x); max_abs_err 3e-06"
    assert (
        summarize_metrics([ShapeLine("a", interpreted=True)])
        == "correct under the CPU interpreter, not timed"
    )
    assert summarize_metrics([]) == "no measurements"
