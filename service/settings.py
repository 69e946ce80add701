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

    database_url: str = "sqlite:///crucible.db"
    api_token: SecretStr | None = None
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = Field(default=None, validation_alias=AliasChoices("RAY_ADDRESS"))
    device: str = "cpu"
    workdir: Path | None = None
    keep_workdirs: bool = False

    @field_validator("models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    def eval_limits(self) -> EvalLimits:
        """The evaluator's limits as set here: the fields ``Settings`` inherits from ``EvalLimits``."""
        return EvalLimits.model_validate(self.model_dump(include=set(EvalLimits.field_names())))
