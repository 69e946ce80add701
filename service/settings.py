"""Crucible's settings: the one place that reads the environment (prefix ``CRUCIBLE_``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from evaluator.limits import EvalLimits


class Settings(BaseSettings, EvalLimits):
    """Every knob, with the default a fresh machine needs. ``crucible --help`` lists the commands.

    The evaluator's limits are ``EvalLimits``'s own fields, inherited with their defaults and
    bounds: ``CRUCIBLE_TIMING_BUDGET_MS`` and the rest.
    """

    model_config = SettingsConfigDict(env_prefix="CRUCIBLE_", env_file=None, extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///crucible.db",
        description="SQLAlchemy URL of the store; postgresql+psycopg://... for PostgreSQL",
    )
    api_token: SecretStr | None = Field(default=None, description="bearer token the HTTP API requires")
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY"), description="key for the LLM endpoint"
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL"),
        description="any OpenAI-compatible endpoint (OpenAI, vLLM, SGLang, Ollama, llama.cpp, OpenRouter)",
    )
    models: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="models the LLM proposer uses, with optional weights: model-a:0.7,model-b:0.3",
    )
    llm_max_concurrent: int = Field(default=2, ge=1, le=64, description="LLM calls in flight at once")
    llm_attempt_timeout_s: float = Field(default=120.0, gt=0, description="bound on one HTTP attempt")
    llm_call_timeout_s: float = Field(
        default=300.0, gt=0, description="bound on one LLM call, its retries included"
    )
    llm_max_attempts: int = Field(default=4, ge=1, le=20, description="attempts per call (429, 5xx, drops)")
    llm_max_prompt_tokens: int = Field(
        default=16_000, ge=1_000, description="prompt budget; long sources are cut, with a marker"
    )
    llm_max_completion_tokens: int = Field(default=4096, ge=64, description="max_tokens of each call")
    llm_temperature: float = Field(default=0.7, ge=0, le=2, description="sampling temperature")
    llm_judge: bool = Field(
        default=False, description="ask a judge call for the one change most likely to pay, first"
    )
    llm_tune_per_structure: int = Field(
        default=6, ge=1, description="evaluations the tuner spends on each new structure's CONFIG_SPACE"
    )
    llm_islands: int = Field(
        default=3, ge=1, le=32, description="islands of the LLM search, each a MAP-Elites grid of its own"
    )
    llm_migration_interval: int = Field(
        default=8, ge=0, description="writer calls between migrations of island elites; 0 never migrates"
    )
    llm_tips_per_prompt: int = Field(
        default=2,
        ge=0,
        le=8,
        description="optimization tips each writer prompt carries, chosen by their record",
    )
    llm_tip_evolution_every: int = Field(
        default=0, ge=0, description="writer calls between meta calls that write a new tip; 0 never does"
    )
    llm_embeddings: bool = Field(
        default=False,
        description="also reject proposals whose code embedding is too close to one tried "
        "(needs pip install -e '.[embeddings]')",
    )
    llm_max_tokens: int | None = Field(default=None, ge=1, description="cap on a run's LLM tokens")
    llm_max_cost_usd: float | None = Field(default=None, gt=0, description="cap on a run's LLM cost")
    llm_max_wall_s: float | None = Field(
        default=None, gt=0, description="cap on the wall time a run spends proposing with an LLM"
    )
    llm_prices: str = Field(
        default="default=0/0",
        description="USD per million prompt/completion tokens: gpt-4o=2.5/10,default=0/0",
    )
    executor: Literal["local", "ray"] = Field(
        default="local", description="where candidates run: local or ray"
    )
    ray_address: str | None = Field(
        default=None, validation_alias=AliasChoices("RAY_ADDRESS"), description="the Ray cluster to join"
    )
    worker_lease_s: float = Field(
        default=60.0, ge=2.0, description="a worker's lease on its run; renewed every third of it"
    )
    worker_poll_s: float = Field(
        default=1.0, gt=0, description="how often an idle worker looks for queued runs"
    )
    worker_max_failures: int = Field(
        default=3, ge=1, description="claims in a row that fail the same way before a run is marked failed"
    )
    device: str = Field(default="cpu", description="default --device")
    workdir: Path | None = Field(
        default=None, description="where evaluation work directories go (a temp dir if unset)"
    )
    keep_workdirs: bool = Field(
        default=False, description="keep each candidate's work directory, for debugging"
    )

    @field_validator("models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    @property
    def llm_configured(self) -> bool:
        """An endpoint and at least one model: what ``--proposer auto`` needs to pick the LLM."""
        return bool(self.openai_base_url and self.models)

    def eval_limits(self) -> EvalLimits:
        """The evaluator's limits as set here: the fields ``Settings`` inherits from ``EvalLimits``."""
        return EvalLimits.model_validate(self.model_dump(include=set(EvalLimits.field_names())))


def process_environment() -> dict[str, str]:
    """This process's environment as it is, for the child processes a command starts (a server
    beside the dashboard, an upload's validator that needs PATH): read here, like every setting."""
    return dict(os.environ)
