"""Settings of the domain code: pure values, read from the environment by services."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from streams.attribution import (
    HEURISTIC_MODELS,
    MARKOV_MODELS,
    ModelParams,
    UnknownModel,
)

# Every model that splits one conversion by itself; the Markov models need the
# removal effects of all journeys and are computed on the leader.
DEFAULT_MODELS = HEURISTIC_MODELS


@dataclass(frozen=True)
class Settings:
    timezone: str = "UTC"
    deal_lookback_days: int = 365
    lead_lookback_days: int = 365
    models: tuple[str, ...] = DEFAULT_MODELS
    time_decay_half_life_days: float = 7.0
    # History of the Markov chain: how many previous channels a state holds.
    markov_order: int = 1
    # Own domains: referrers from these hosts (and their subdomains) never start
    # a touch. Payment and sign-in providers are excluded by the rule set itself.
    excluded_referrers: tuple[str, ...] = field(default_factory=tuple)
    # A channel rule file (JSON or YAML) replacing the shipped GA4-based one.
    channel_rules_path: str = ""
    # A touch received this long after a deal closed no longer changes its
    # credit (streams.journey); 0 means it always may.
    allowed_lateness_days: int = 30
    # A call to a tracking number belongs to the visitor last shown that number,
    # if the call came at most this long after the showing.
    tracking_number_hold_minutes: int = 30

    def __post_init__(self) -> None:
        per_lead = [m for m in self.models if m in MARKOV_MODELS]
        if per_lead:
            # A worker's records would be renamed away by the leader's next
            # generation, and their later differences applied to the wrong base.
            raise UnknownModel(
                f"models: {', '.join(per_lead)} cannot be credited per lead;"
                " expected heuristic models only (the Markov models are"
                " recomputed on the leader, see LEADROI_MARKOV_ORDER)"
            )

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
            excluded_referrers=tuple(
                host.strip()
                for host in env.get("LEADROI_EXCLUDED_REFERRERS", "").split(",")
                if host.strip()
            ),
            channel_rules_path=env.get("LEADROI_CHANNEL_RULES", ""),
            time_decay_half_life_days=float(
                env.get("LEADROI_TIME_DECAY_HALF_LIFE_DAYS", "7")
            ),
            allowed_lateness_days=int(env.get("LEADROI_ALLOWED_LATENESS_DAYS", "30")),
            tracking_number_hold_minutes=int(
                env.get("LEADROI_TRACKING_NUMBER_HOLD_MINUTES", "30")
            ),
            markov_order=int(env.get("LEADROI_MARKOV_ORDER", "1")),
        )


def kafka_bootstrap_from_env(env: Mapping[str, str] | None = None) -> str:
    """``LEADROI_KAFKA_BOOTSTRAP``, else the broker ``deploy/kafka.sh`` starts on
    ``LEADROI_KAFKA_PORT`` (19092)."""
    env = os.environ if env is None else env
    port = env.get("LEADROI_KAFKA_PORT", "19092")
    return env.get("LEADROI_KAFKA_BOOTSTRAP") or f"127.0.0.1:{port}"


def redis_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """``LEADROI_REDIS_URL``, else the server ``deploy/redis.sh`` starts on
    ``LEADROI_REDIS_PORT`` (16379)."""
    env = os.environ if env is None else env
    port = env.get("LEADROI_REDIS_PORT", "16379")
    return env.get("LEADROI_REDIS_URL") or f"redis://127.0.0.1:{port}/0"
