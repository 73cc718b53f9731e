"""Settings of the domain code: pure values, read from the environment by services."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from streams.attribution import ModelParams

DEFAULT_MODELS = ("first_touch", "last_touch", "linear")


@dataclass(frozen=True)
class Settings:
    timezone: str = "UTC"
    deal_lookback_days: int = 365
    lead_lookback_days: int = 365
    models: tuple[str, ...] = DEFAULT_MODELS
    time_decay_half_life_days: float = 7.0
    # Touches from these hosts never start a journey step (own site, payments).
    excluded_referrers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def model_params(self) -> ModelParams:
        return ModelParams(time_decay_half_life_days=self.time_decay_half_life_days)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        models = env.get("LEADROI_MODELS")
        return cls(
            timezone=env.get("LEADROI_TIMEZONE", "UTC"),
            deal_lookback_days=int(env.get("LEADROI_DEAL_LOOKBACK_DAYS", "365")),
            lead_lookback_days=int(env.get("LEADROI_LEAD_LOOKBACK_DAYS", "365")),
            models=tuple(models.split(",")) if models else DEFAULT_MODELS,
            time_decay_half_life_days=float(
                env.get("LEADROI_TIME_DECAY_HALF_LIFE_DAYS", "7")
            ),
        )
