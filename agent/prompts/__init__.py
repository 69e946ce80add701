"""The LLM agent's prompt templates, kept as package data so an installed wheel carries them.

Every template is a markdown file split into named sections by its ``## `` headings (outside
code fences): ``writer.md`` and ``judge.md`` hold each role's ``system`` and ``task`` text,
``sections.md`` the framing of each part of a prompt, and ``guidance.md`` the guidance
snippets, whose headings are the ids a caller selects them by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

HEADING = "## "
FENCE = "```"


@dataclass(frozen=True)
class Snippet:
    """One named section of a template: its id (the heading text) and its body."""

    id: str
    text: str


@cache
def load_template(name: str) -> str:
    """The text of ``agent/prompts/<name>.md``, read through importlib.resources."""
    resource = resources.files(__name__).joinpath(f"{name}.md")
    if not resource.is_file():
        raise FileNotFoundError(f"no prompt template named {name!r} in the agent.prompts package")
    return resource.read_text(encoding="utf-8")


def split_sections(text: str) -> tuple[Snippet, ...]:
    """The ``## `` sections of a markdown text, in order; text before the first heading is ignored.

    Headings inside fenced code blocks do not count, so a snippet may quote markdown or Python.
    """
    sections: list[Snippet] = []
    name: str | None = None
    body: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(FENCE):
            in_fence = not in_fence
        if not in_fence and line.startswith(HEADING):
            if name is not None:
                sections.append(Snippet(name, "\n".join(body).strip()))
            name, body = line[len(HEADING) :].strip(), []
        elif name is not None:
            body.append(line)
    if name is not None:
        sections.append(Snippet(name, "\n".join(body).strip()))
    ids = [s.id for s in sections]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"template sections must have unique headings; repeated: {duplicates}")
    return tuple(sections)


@cache
def template_sections(name: str) -> Mapping[str, str]:
    """A template's sections by heading, read-only, for lookups inside the prompt builder."""
    return MappingProxyType({s.id: s.text for s in split_sections(load_template(name))})


def guidance_snippets() -> tuple[Snippet, ...]:
    """Every guidance snippet, in the order ``guidance.md`` gives them."""
    return split_sections(load_template("guidance"))


def select_guidance(ids: tuple[str, ...] | None) -> tuple[Snippet, ...]:
    """The snippets named by ``ids``, in the order given; every snippet when ``ids`` is None."""
    snippets = guidance_snippets()
    if ids is None:
        return snippets
    by_id = {s.id: s for s in snippets}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise ValueError(f"unknown guidance snippet ids {unknown}; known: {[s.id for s in snippets]}")
    return tuple(by_id[i] for i in dict.fromkeys(ids))
