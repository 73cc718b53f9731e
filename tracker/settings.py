"""Tracker settings, read from the environment, and the redirect links file."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import phonenumbers

from schemas.errors import LeadroiError
from schemas.names import Names
from streams.config import kafka_bootstrap_from_env
from streams.normalize import DEFAULT_PHONE_REGION

log = logging.getLogger(__name__)

# Only for development: events hashed with it can be re-identified by anyone who
# reads this file, so a deployment must set LEADROI_HASH_KEY.
DEV_HASH_KEY = b"leadroi-development-key-not-secret"


class BadSetting(LeadroiError):
    """A setting or the links file holds a value the tracker cannot use."""


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:19092"
    prefix: str = "leadroi"
    hash_key: bytes = DEV_HASH_KEY
    host: str = "127.0.0.1"
    port: int = 8080
    partitions: int = 4
    # Each request waits for its acknowledgement, so a linger only adds latency:
    # aiokafka already gathers records behind its one request in flight per
    # partition (measured: 0 ms beat 5 ms on single events, tied on batches).
    linger_ms: int = 0
    # Redirect slug -> target URL; targets come only from here (open redirects).
    links: Mapping[str, str] = field(default_factory=dict)
    # Hosts (and their subdomains) that may call the JSON endpoints from a
    # browser and that link targets must point to; empty allows any.
    own_domains: tuple[str, ...] = ()
    max_event_bytes: int = 64 * 1024
    max_batch_bytes: int = 1024 * 1024
    max_batch_events: int = 1000
    # URLs of at least 8,192 characters must pass; the event schema stops at
    # 16,384, and a percent-encoded query may be three times its decoded size.
    max_url_chars: int = 16 * 1024
    max_query_bytes: int = 48 * 1024
    delivery_timeout_s: float = 10.0
    # Country whose numbering plan reads a phone number written without +code.
    phone_region: str = DEFAULT_PHONE_REGION

    @property
    def names(self) -> Names:
        return Names(self.prefix)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        own_domains = _domains(env.get("LEADROI_OWN_DOMAINS", ""))
        links_path = env.get("LEADROI_LINKS")
        key = env.get("LEADROI_HASH_KEY", "")
        if not key:
            log.warning(
                "LEADROI_HASH_KEY is not set: PII is hashed with the public"
                " development key; set a secret before taking real traffic"
            )
        return cls(
            kafka_bootstrap=kafka_bootstrap_from_env(env),
            prefix=env.get("LEADROI_PREFIX", cls.prefix),
            hash_key=key.encode() if key else DEV_HASH_KEY,
            host=env.get("LEADROI_TRACKER_HOST", cls.host),
            port=_positive_int(env, "LEADROI_TRACKER_PORT", cls.port),
            partitions=_positive_int(env, "LEADROI_PARTITIONS", cls.partitions),
            linger_ms=_whole(env, "LEADROI_KAFKA_LINGER_MS", cls.linger_ms),
            links=load_links(Path(links_path), own_domains) if links_path else {},
            own_domains=own_domains,
            phone_region=_region(env.get("LEADROI_PHONE_REGION", cls.phone_region)),
        )


def _region(text: str) -> str:
    region = text.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise BadSetting(
            f"LEADROI_PHONE_REGION: {text!r} is not a region phone numbers know;"
            " expected an ISO 3166 alpha-2 code such as US or BR"
        )
    return region


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if text is None:
        return default
    if not text.strip().isdigit():
        raise BadSetting(f"{name}: {text!r} is not a whole number")
    return int(text)


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _whole(env, name, default)
    if value < 1:
        raise BadSetting(f"{name}: {value} is not a positive whole number")
    return value


def _domains(text: str) -> tuple[str, ...]:
    return tuple(d.strip().lower().strip(".") for d in text.split(",") if d.strip())


def host_is_own(host: str, own_domains: tuple[str, ...]) -> bool:
    """True when ``host`` is one of ``own_domains`` or a subdomain of one."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith(f".{d}") for d in own_domains)


def check_target(slug: str, target: object, own_domains: tuple[str, ...]) -> str:
    """Return a link target that is safe to redirect to, or raise BadSetting."""
    where = f"link {slug!r}"
    if not isinstance(target, str) or not target:
        raise BadSetting(f"{where}: {target!r} is not a URL string")
    if any(ch.isspace() or ord(ch) < 0x20 or ch == "\\" for ch in target):
        raise BadSetting(f"{where}: {target!r} holds whitespace, control or '\\'")

    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadSetting(f"{where}: {target!r} is not an absolute http(s) URL")
    if "@" in parts.netloc:
        raise BadSetting(f"{where}: {target!r} carries user info; expected none")
    if own_domains and not host_is_own(parts.hostname, own_domains):
        raise BadSetting(
            f"{where}: host {parts.hostname!r} is not one of LEADROI_OWN_DOMAINS"
            f" {', '.join(own_domains)}"
        )
    return target


def load_links(path: Path, own_domains: tuple[str, ...] = ()) -> dict[str, str]:
    """Read the JSON object slug -> target URL and check every target."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BadSetting(f"LEADROI_LINKS: cannot read {str(path)!r}: {exc}") from exc
    if not isinstance(data, dict):
        raise BadSetting(f"LEADROI_LINKS: {str(path)!r} must hold a JSON object")
    return {slug: check_target(slug, url, own_domains) for slug, url in data.items()}
