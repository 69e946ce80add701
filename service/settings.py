"""Crucible's settings: the one place that reads the environment (prefix ``CRUCIBLE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from evaluator.limits import EvalLimits


class Settings(BaseSettings):
    """Every knob, with the default a fresh machine needs. ``crucible --help`` lists the commands."""

    model_config = SettingsConfigDict(env_prefix="CRUCIBLE_", env_file=None, extra="ignore")

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

    # Evaluator limits (see evaluator.limits.EvalLimits for what each one bounds).
    load_timeout_s: float = Field(default=60.0, gt=0)
    correctness_timeout_s: float = Field(default=120.0, gt=0)
    timing_timeout_s: float = Field(default=120.0, gt=0)
    reference_timeout_s: float = Field(default=300.0, gt=0)
    memory_limit_bytes: int = Field(default=8 * 1024**3, gt=0)
    cpu_threads: int = Field(default=1, ge=1)
    trials: int = Field(default=3, ge=2)
    warmup_ms: float = Field(default=50.0, ge=0)
    timing_budget_ms: float = Field(default=400.0, ge=0)
    min_samples: int = Field(default=10, ge=1)
    max_samples: int = Field(default=1000, ge=1)
    interpreted_samples: int = Field(default=2, ge=1)
    sandbox: bool = True
    max_processes: int = Field(default=4096, ge=16)
    gpu_memory_fraction: float = Field(default=1.0, gt=0, le=1)
    ncu: bool = True
    timing_method: Literal["events", "cuda_graph", "auto"] = "auto"
    graph_below_us: float = Field(default=20.0, gt=0)
    max_plausible_speedup: float = Field(default=25.0, gt=1)
    reverify: bool = True
    profile: bool = True

    @field_validator("models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    def eval_limits(self) -> EvalLimits:
        return EvalLimits(
            load_timeout_s=self.load_timeout_s,
            correctness_timeout_s=self.correctness_timeout_s,
            timing_timeout_s=self.timing_timeout_s,
            reference_timeout_s=self.reference_timeout_s,
            memory_bytes=self.memory_limit_bytes,
            cpu_threads=self.cpu_threads,
            trials=self.trials,
            warmup_ms=self.warmup_ms,
            timing_budget_ms=self.timing_budget_ms,
            min_samples=self.min_samples,
            max_samples=self.max_samples,
            interpreted_samples=self.interpreted_samples,
            sandbox=self.sandbox,
            max_processes=self.max_processes,
            gpu_memory_fraction=self.gpu_memory_fraction,
            ncu=self.ncu,
            timing_method=self.timing_method,
            graph_below_us=self.graph_below_us,
            max_plausible_speedup=self.max_plausible_speedup,
            reverify=self.reverify,
            profile=self.profile,
        )
