"""Crucible's settings: the one place that reads the environment (prefix ``CRUCIBLE_``)."""

from __future__ import annotations

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
        default_factory=list, description="comma-separated models the LLM proposer uses"
    )
    executor: Literal["local", "ray"] = Field(
        default="local", description="where candidates run: local or ray"
    )
    ray_address: str | None = Field(
        default=None, validation_alias=AliasChoices("RAY_ADDRESS"), description="the Ray cluster to join"
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

    def eval_limits(self) -> EvalLimits:
        """The evaluator's limits as set here: the fields ``Settings`` inherits from ``EvalLimits``."""
        return EvalLimits.model_validate(self.model_dump(include=set(EvalLimits.field_names())))
