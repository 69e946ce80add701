"""Meta-prompt evolution: optimization tips scored by what the prompts carrying them led to.

Each writer prompt carries ``per_prompt`` tips from a pool (``agent/prompts/tips.md`` to start
with). A tip earns a success each time a candidate written under it is ok and beats its parent
(faster, or simply ok where there was no timed parent to beat), and a trial either way. Tips are
chosen by Thompson sampling on a Beta posterior of that success rate, so a tip that keeps paying
is shown more often while every tip keeps some chance.

With evolution on, the proposer now and then asks the model (role ``meta``) for one new tip,
showing it the best-scoring tips and the recent improvements; a well-formed answer joins the
pool. Everything here is a function of the run's calls and results: which tips each call
carried is recorded with it, and an evolved tip is the recorded answer of a meta call, so a
resumed run rebuilds the same pool and scores.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agent.llm.types import ChatMessage
from agent.prompts import load_template, split_sections, template_sections

MAX_TIP_CHARS = 800
MAX_POOL = 24  # evolved tips beyond this replace the worst-scoring evolved one
_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,47}")


@dataclass(frozen=True)
class Tip:
    id: str
    text: str
    evolved: bool = False


@dataclass(frozen=True)
class TipScore:
    """A tip's record: prompts that carried it whose candidate came back, and how many improved."""

    trials: int = 0
    successes: int = 0

    @property
    def rate(self) -> float:
        """The posterior mean success rate, under a uniform prior."""
        return (1 + self.successes) / (2 + self.trials)


def builtin_tips() -> tuple[Tip, ...]:
    return tuple(Tip(s.id, s.text) for s in split_sections(load_template("tips")))


class TipPool:
    """The tips of one run and their scores."""

    def __init__(
        self, tips: Sequence[Tip] | None = None, *, per_prompt: int = 2, rng: random.Random | None = None
    ) -> None:
        self._tips: dict[str, Tip] = {t.id: t for t in (builtin_tips() if tips is None else tips)}
        self._scores: dict[str, TipScore] = {i: TipScore() for i in self._tips}
        self.per_prompt = per_prompt
        self._rng = rng or random.Random(0)

    def __len__(self) -> int:
        return len(self._tips)

    @property
    def tips(self) -> list[Tip]:
        return list(self._tips.values())

    def score(self, tip_id: str) -> TipScore:
        return self._scores.get(tip_id, TipScore())

    def choose(self) -> tuple[Tip, ...]:
        """The tips for the next prompt: the ``per_prompt`` highest of one posterior draw each."""
        draws = {
            tip_id: self._rng.betavariate(1 + s.successes, 1 + s.trials - s.successes)
            for tip_id, s in self._scores.items()
        }
        chosen = sorted(draws, key=lambda i: (-draws[i], i))[: self.per_prompt]
        return tuple(self._tips[i] for i in chosen)

    def credit(self, tip_ids: Iterable[str], improved: bool) -> None:
        """What a candidate written under these tips came to."""
        for tip_id in tip_ids:
            if tip_id in self._scores:
                old = self._scores[tip_id]
                self._scores[tip_id] = TipScore(old.trials + 1, old.successes + int(improved))

    def ranked(self) -> list[tuple[Tip, TipScore]]:
        """Every tip with its score, best rate first."""
        return sorted(
            ((t, self.score(t.id)) for t in self._tips.values()), key=lambda p: (-p[1].rate, p[0].id)
        )

    def add(self, tip: Tip) -> bool:
        """A new tip joins with no record; False for a repeated id or text. Past ``MAX_POOL``
        it replaces the evolved tip with the worst record."""
        if tip.id in self._tips or any(t.text == tip.text for t in self._tips.values()):
            return False
        if len(self._tips) >= MAX_POOL:
            evolved = [t for t, _ in self.ranked() if t.evolved]
            if not evolved:
                return False
            worst = evolved[-1]
            del self._tips[worst.id]
            del self._scores[worst.id]
        self._tips[tip.id] = tip
        self._scores[tip.id] = TipScore()
        return True


def parse_tip(text: str) -> Tip | None:
    """The tip in a meta call's answer: one ``## tip-id`` section with a body; None otherwise."""
    sections = [s for s in _sections(text) if s.text]
    if len(sections) != 1:
        return None
    section = sections[0]
    tip_id = section.id.strip().lower().replace(" ", "-")
    if not _ID.fullmatch(tip_id) or len(section.text) > MAX_TIP_CHARS:
        return None
    return Tip("evolved-" + tip_id if not tip_id.startswith("evolved-") else tip_id, section.text, True)


def meta_task() -> tuple[str, str]:
    """The meta role's system text and task."""
    role = template_sections("meta")
    return role["system"], role["task"]


def _sections(text: str) -> list[Tip]:
    try:
        return [Tip(s.id, s.text) for s in split_sections(text)]
    except ValueError:  # repeated headings: not one tip
        return []


def build_meta_prompt(
    pool: TipPool, problem_name: str, improvements: Sequence[str]
) -> tuple[ChatMessage, ...]:
    """The meta call's messages: the tips with their records, and what recently paid."""
    system, task = meta_task()
    lines = [
        f"- **{tip.id}** ({score.successes} of {score.trials} improved): {tip.text}"
        for tip, score in pool.ranked()
    ]
    recent = "\n".join(f"- {line}" for line in improvements) or "- none yet"
    user = (
        f"# The problem: {problem_name}\n\n# The tips so far, best record first\n\n"
        + "\n".join(lines)
        + f"\n\n# Recent improvements\n\n{recent}\n\n{task}"
    )
    return ChatMessage("system", system), ChatMessage("user", user)
