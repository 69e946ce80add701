"""The LLM proposer: a language model writes kernel structure, the config tuner sets its parameters.

Two levels of search (``LLMProposer.propose``):

1. Config tuning comes first whenever it has work: the problem's own variant families, then
   every LLM-written structure that declares a ``CONFIG_SPACE``, each tuned for at most
   ``tune_per_structure`` evaluations by the offline proposer's tuners.
2. Otherwise a writer call is started for the next island in turn: the island's MAP-Elites
   grid gives a parent (``agent.islands``), the prompt shows it with its measurements, profile
   and roofline, a couple of elites of other cells, the latest failures and two optimization
   tips chosen by their record (``agent.tips``), and the answer (a full file or SEARCH/REPLACE
   edits) becomes a candidate on that island. Every ``migration_interval`` writer calls the
   islands trade their best elites; with ``tip_evolution_every`` set, a meta call now and then
   writes a new tip.

Calls run on an event loop in a thread of their own, up to ``max_concurrent`` at once, and
``propose`` returns a future for each, so evaluations go on while models write (the loop keeps
``lookahead`` proposals in the works). Every call, whatever its end, is a ``CallRecord`` in the
run's ``CallLog``; an answer with no usable code, a duplicate, or a failed call is recorded with
its reason, which the next prompts show. The model for each call is chosen by a bandit over
measured improvement per dollar. Caps on tokens, cost and wall time end the proposing cleanly,
with the cap named in ``stopped_because``. A resumed run rebuilds all of this from the store:
the islands from each call's island and the recorded migrations, the tips from each call's tips
and the meta calls' answers, the bandit from the calls and results replayed through ``observe``.
Model output is untrusted text: it is parsed here and only ever run by the evaluator, in its
sandbox, after the static gate.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

from agent.archive import Archive
from agent.calls import CallLog, CallRecord, CallResult, Caps, LogCache, Spend, span_s, trailing_fruitless
from agent.edits import ParseFailure, parse_response
from agent.islands import IslandModel, IslandSettings
from agent.llm.bandit import ModelBandit
from agent.llm.client import LLMClient, LLMClientConfig
from agent.llm.loop_thread import LoopThread
from agent.llm.models import ModelWeight, PriceTable
from agent.llm.types import CallFailure, CallOutcome, ChatMessage, ChatRequest, ChatResponse, prompt_hash
from agent.novelty import NoveltyFilter
from agent.offline import OfflineProposer
from agent.prompt_context import Parent, PromptContext, reference_as_candidate
from agent.prompt_types import DeviceFacts, ProblemBrief, PromptInputs
from agent.prompting import build_judge_prompt, build_writer_prompt
from agent.prompts import Snippet
from agent.search_memory import SearchMemory
from agent.tips import Tip, TipPool, build_meta_prompt, parse_tip
from evaluator.types import EvalResult
from kernels.candidate import Candidate, Origin, make_candidate, normalize_source, read_config_space
from kernels.errors import CrucibleError
from kernels.families import VariantFamily


@dataclass(frozen=True)
class LLMSettings:
    """How the LLM proposer spends its calls."""

    models: tuple[ModelWeight, ...]
    max_concurrent: int = 2
    max_prompt_tokens: int = 16_000
    max_completion_tokens: int = 4096
    temperature: float = 0.7
    judge: bool = False
    tune_per_structure: int = 6
    caps: Caps = field(default_factory=Caps)
    # Writer calls in a row that gave nothing new to evaluate (no code, a duplicate, a failed
    # call) before the proposer gives up: a model that only repeats itself must not be paid forever.
    max_fruitless_calls: int = 12
    # Proposals kept in the works beyond the free slots (None: as many as calls may be in flight).
    lookahead: int | None = None
    islands: IslandSettings = field(default_factory=IslandSettings)
    tips_per_prompt: int = 2
    tip_evolution_every: int = 0  # writer calls between meta calls that write a new tip; 0: never


class LLMProposer:
    """Proposes candidates written by language models, tuned by the config tuner."""

    name = "llm"

    def __init__(
        self,
        problem: ProblemBrief,
        families: Sequence[VariantFamily],
        settings: LLMSettings,
        client: LLMClientConfig,
        log: CallLog,
        *,
        prices: PriceTable | None = None,
        device: DeviceFacts | None = None,
        seed: int = 0,
        novelty: NoveltyFilter | None = None,
    ) -> None:
        self.settings = settings
        self.log = log
        self.stopped_because: str | None = None
        self._client_config = client
        self._prices = prices or PriceTable()
        self._rng = random.Random(seed)
        self._context = PromptContext(problem, device, random.Random(seed + 1))
        self._bandit = ModelBandit(settings.models, random.Random(seed + 2))
        self._tuner = OfflineProposer(families, seed=seed, max_per_family=settings.tune_per_structure)
        self._lock = threading.Lock()  # calls finish on the loop's thread; the search asks on its own
        self._novelty = novelty or NoveltyFilter()
        self._memory = SearchMemory(
            settings.islands,
            tips_per_prompt=settings.tips_per_prompt,
            tip_evolution_every=settings.tip_evolution_every,
            rng=random.Random(seed + 3),
        )
        earlier = log.calls()
        self._memory.restore(earlier, log)
        self._spend = Spend.of(earlier)
        self._asked = {c.prompt_hash for c in earlier}
        self._writers = {c.candidate_hash: c for c in earlier if c.candidate_hash}
        self._elapsed_before_s = span_s(earlier)
        self._started = time.monotonic()
        self._in_flight = 0
        self._fruitless = trailing_fruitless(earlier)
        self._loop: LoopThread | None = None
        self._client: LLMClient | None = None
        self._reference_offered = bool(families)
        self._reference = reference_as_candidate(problem.reference_source)

    @property
    def lookahead(self) -> int:
        chosen = self.settings.lookahead
        return self.settings.max_concurrent if chosen is None else chosen

    @property
    def spend(self) -> Spend:
        with self._lock:
            return replace(self._spend)

    @property
    def islands(self) -> IslandModel:
        return self._memory.islands

    @property
    def tips(self) -> TipPool:
        return self._memory.tips

    def propose(self, archive: Archive) -> Candidate | Future[Candidate | None] | None:
        with self._lock:
            self._memory.catch_up(archive)
            tuned = self._tuner.propose(archive)
            if tuned is not None:
                return tuned
            if not self._reference_offered:  # a plain file: its reference is the first baseline
                self._reference_offered = True
                return make_candidate(self._reference, family="reference", origin=Origin.OFFLINE)
            if self._in_flight >= self.settings.max_concurrent:
                return None
            wall_s = self._elapsed_before_s + time.monotonic() - self._started
            self.stopped_because = self.settings.caps.reached(self._spend, wall_s)
            if self._fruitless >= self.settings.max_fruitless_calls:
                self.stopped_because = f"{self._fruitless} writer calls in a row gave nothing new to evaluate"
            if self.stopped_because:
                return None
            self._in_flight += 1
            turn = self._memory.next_turn(archive, self.log)
            islands = self._memory.islands
            parent = self._context.choose_parent(archive, islands, turn.island)
            tips = self._memory.tips.choose()
            inputs = self._context.inputs(archive, parent, islands, tips=_snippets(tips))
            model = self._bandit.choose()
        return self._thread().submit(self._write(inputs, parent, model, tips, turn.meta))

    def observe(self, candidate: Candidate, result: EvalResult) -> None:
        with self._lock:
            self._memory.observe(candidate, result)
            self._tuner.observe(candidate, result)
            self._context.note_result(candidate, result)
            self._novelty.add(candidate.source, candidate.hash[:12])
            call = self._writers.get(candidate.hash)
            if call is not None and candidate.origin is Origin.LLM:
                self._bandit.update(call.model, _improvement(result), call.cost_usd)

    def catch_up(self, archive: Archive) -> None:
        """Bring the islands up to date with the archive (``propose`` does this first)."""
        with self._lock:
            self._memory.catch_up(archive)

    def close(self) -> None:
        """End the calls' thread. A call still open is cancelled and recorded as ``cancelled``:
        its request may have reached the endpoint, so the account keeps it."""
        if self._loop is None:
            return
        try:
            self._loop.submit(self._drain()).result(timeout=10)
        except Exception:  # closing is best effort: the thread goes either way
            pass
        self._loop.close()
        self._loop = None

    async def _drain(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    def _thread(self) -> LoopThread:
        if self._loop is None:
            self._loop = LoopThread()
        return self._loop

    async def _write(
        self, inputs: PromptInputs, parent: Parent, model: str, tips: tuple[Tip, ...], meta: bool
    ) -> Candidate | None:
        try:
            if meta:
                await self._evolve_tip(model, parent)
            return await self._write_once(inputs, parent, model, tuple(t.id for t in tips))
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _evolve_tip(self, model: str, parent: Parent) -> None:
        """A meta call: one new tip from the tips' records and the recent wins; kept if well formed."""
        with self._lock:
            memory = self._memory
            messages = build_meta_prompt(memory.tips, self._context.problem.name, memory.improvements)
        request = self._request(model, "meta", messages)
        answer = await self._call(request, parent, account=False)
        if not isinstance(answer, ChatResponse):
            return
        tip = parse_tip(answer.text)
        with self._lock:
            added = tip is not None and self._memory.tips.add(tip)
        if added:
            self._account(request, answer, CallResult.OK.value, "", parent, None)
        else:
            reason = (
                "the answer held no well-formed new tip (one '## short-id' section of at most 800 characters)"
            )
            self._account(request, answer, CallResult.NO_CODE.value, reason, parent, None)

    async def _write_once(
        self, inputs: PromptInputs, parent: Parent, model: str, tips: tuple[str, ...]
    ) -> Candidate | None:
        budget = self.settings.max_prompt_tokens
        if self.settings.judge and parent.entry is not None and parent.entry.result.profile is not None:
            judged = build_judge_prompt(inputs, max_prompt_tokens=budget)
            advice = await self._call(self._request(model, "judge", judged.messages), parent)
            if isinstance(advice, ChatResponse):
                inputs = replace(inputs, judge_advice=advice.text.strip()[:1500])
        prompt = build_writer_prompt(inputs, max_prompt_tokens=budget)
        request = self._request(model, "writer", prompt.messages)
        answer = await self._call(request, parent, tips=tips)
        if not isinstance(answer, ChatResponse):
            return None
        outcome, reason, candidate = self._candidate_from(answer.text, parent)
        self._account(request, answer, outcome, reason, parent, candidate, tips)
        return candidate

    async def _call(
        self, request: ChatRequest, parent: Parent, *, account: bool = True, tips: tuple[str, ...] = ()
    ) -> ChatResponse | CallFailure:
        if self._client is None:  # made on the loop's thread, which it belongs to
            self._client = LLMClient(self._client_config, prices=self._prices, cache=LogCache(self.log))
        try:
            answer = await self._client.complete(request)
        except asyncio.CancelledError:  # the run stopped: the call is accounted, its answer unread
            gone = CallFailure(CallOutcome.TIMEOUT, "", request.model, attempts=0, latency_s=0.0)
            reason = "cancelled: the run stopped while the call was open; its answer was not read"
            self._account(request, gone, CallResult.CANCELLED.value, reason, parent, None, tips)
            raise
        if isinstance(answer, CallFailure):
            self._account(request, answer, answer.outcome.value, answer.reason, parent, None, tips)
        elif request.role != "writer" and account:
            self._account(request, answer, CallResult.OK.value, "", parent, None)
        return answer

    def _request(self, model: str, role: str, messages: Sequence[ChatMessage]) -> ChatRequest:
        """The call to make; a prompt this run already asked gets a new sample, not the same answer."""
        chat = tuple(messages)
        settings = self.settings
        request = ChatRequest(model, chat, settings.max_completion_tokens, settings.temperature, role=role)
        with self._lock:
            while prompt_hash(request) in self._asked:
                request = replace(request, sample=request.sample + 1)
            self._asked.add(prompt_hash(request))
        return request

    def _candidate_from(self, text: str, parent: Parent) -> tuple[str, str, Candidate | None]:
        parsed = parse_response(text, parent.source)
        if isinstance(parsed, ParseFailure):
            return parsed.kind.value, parsed.reason, None
        try:
            space = read_config_space(parsed.source)
            family = "llm-" + hashlib.sha256(normalize_source(parsed.source).encode()).hexdigest()[:10]
            candidate = make_candidate(
                parsed.source, family=family, origin=Origin.LLM, parent_hash=parent.hash
            )
        except CrucibleError as exc:
            return "bad_candidate", str(exc)[:300], None
        with self._lock:
            verdict = self._novelty.check(parsed.source)
            if not verdict.novel:
                return CallResult.DUPLICATE.value, verdict.reason, None
            self._novelty.add(parsed.source, candidate.hash[:12])
            if space:  # the tuner sets its parameters once its default has been tried
                self._tuner.add_family(VariantFamily(family, _nowhere(family), parsed.source, space))
        return CallResult.OK.value, "", candidate

    def _account(
        self,
        request: ChatRequest,
        answer: ChatResponse | CallFailure,
        outcome: str,
        reason: str,
        parent: Parent,
        candidate: Candidate | None,
        tips: tuple[str, ...] = (),
    ) -> None:
        replied = answer if isinstance(answer, ChatResponse) else None
        writer = request.role == "writer"
        record = CallRecord(
            model=request.model,
            role=request.role,
            prompt_hash=prompt_hash(request),
            prompt=messages_json(request.messages),
            outcome=outcome,
            prompt_tokens=replied.prompt_tokens if replied else 0,
            completion_tokens=replied.completion_tokens if replied else 0,
            cost_usd=replied.cost_usd if replied else 0.0,
            latency_s=answer.latency_s,
            attempts=answer.attempts,
            tokens_estimated=replied.tokens_estimated if replied else False,
            cached=replied.cached if replied else False,
            reason=reason,
            response=replied.text if replied else "",
            candidate_hash=candidate.hash if candidate else None,
            parent_hash=parent.hash,
            island=parent.island if writer else None,
            tips=tips,
        )
        with self._lock:
            self._spend.add(record)
            if candidate is not None:
                self._writers[candidate.hash] = record
                self._memory.wrote(candidate.hash, parent.island, tips)
            if request.role == "writer":
                self._fruitless = 0 if candidate is not None else self._fruitless + 1
            if outcome != CallResult.OK.value:
                self._context.note_failure(f"{request.role} call", outcome, reason)
        self.log.record(record)


def _improvement(result: EvalResult) -> float:
    """What a candidate earned its model: its speedup over the reference beyond 1, if ranked."""
    speedup = result.speedup
    return max(0.0, speedup - 1.0) if speedup is not None else 0.0


def _nowhere(family: str) -> Path:
    """The path of a family that lives in the store, not in a file."""
    return Path(f"<{family}>")


def _snippets(tips: Sequence[Tip]) -> tuple[Snippet, ...]:
    return tuple(Snippet(t.id, t.text) for t in tips)


def messages_json(messages: Sequence[ChatMessage]) -> str:
    return json.dumps([{"role": m.role, "content": m.content} for m in messages])
