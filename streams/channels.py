"""Touch classification: UTM tags, click ids and referrer to source, medium, channel.

This is the first, small rule set; channel names follow GA4's default channel group.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

RULESET_VERSION = "basic-1"

SEARCH_ENGINES = ("google", "bing", "yahoo", "duckduckgo", "baidu", "yandex", "ecosia")
SOCIAL_NETWORKS = ("facebook", "instagram", "linkedin", "twitter", "x", "t", "reddit")
PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
CLICK_IDS = {"gclid": "google", "gbraid": "google", "wbraid": "google", "msclkid": "bing"}
DIRECT = ("(direct)", "(none)")


@dataclass(frozen=True)
class Classification:
    source: str
    medium: str
    campaign: str
    channel: str
    source_raw: str
    medium_raw: str
    campaign_raw: str
    click_id: str
    ruleset: str = RULESET_VERSION
    # Non-empty when the hit must not become a touch (own site, payment page, spam).
    excluded: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _norm(value: str) -> str:
    return value.strip().lower()


def _query_tags(url: str) -> dict[str, str]:
    if not url:
        return {}
    tags: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        tags.setdefault(key.lower(), value)
    return tags


def _site_name(host: str) -> str:
    """The registrable name without suffix: ``www.google.co.uk`` → ``google``."""
    parts = [p for p in host.lower().split(".") if p and p != "www"]
    if len(parts) >= 3 and len(parts[-1]) == 2 and parts[-2] in ("co", "com"):
        return parts[-3]
    return parts[-2] if len(parts) >= 2 else (parts[0] if parts else "")


def _channel(source: str, medium: str) -> str:
    if (source, medium) == DIRECT or (source == "(direct)" and not medium):
        return "Direct"
    if medium in ("email", "e-mail", "e_mail", "e mail") or source == "email":
        return "Email"
    if PAID_MEDIUM.match(medium):
        if source in SEARCH_ENGINES:
            return "Paid Search"
        if source in SOCIAL_NETWORKS or medium in ("paid_social", "paidsocial"):
            return "Paid Social"
        return "Paid Other"
    if medium == "display" or medium in ("banner", "cpm"):
        return "Display"
    if source in SEARCH_ENGINES or medium == "organic":
        return "Organic Search"
    if source in SOCIAL_NETWORKS or medium in ("social", "social-network", "sm"):
        return "Organic Social"
    if medium in ("referral", "app", "link"):
        return "Referral"
    return "Unassigned"


def classify(event: Mapping[str, Any]) -> Classification:
    """Classify a touch event from its explicit tags, URL and referrer."""
    tags = _query_tags(str(event.get("url") or ""))
    for key in ("source", "medium", "campaign"):
        explicit = event.get(f"utm_{key}") or event.get(key)
        if explicit:
            tags[f"utm_{key}"] = str(explicit)

    source_raw = tags.get("utm_source", "")
    medium_raw = tags.get("utm_medium", "")
    campaign_raw = tags.get("utm_campaign", "")
    click_id = next((f"{k}={tags[k]}" for k in CLICK_IDS if tags.get(k)), "")

    if not source_raw and click_id:
        source_raw, medium_raw = CLICK_IDS[click_id.split("=")[0]], "cpc"
    if not source_raw:
        host = urlsplit(str(event.get("referrer") or "")).hostname or ""
        name = _site_name(host)
        if name and name in SEARCH_ENGINES:
            source_raw, medium_raw = name, "organic"
        elif name:
            source_raw = name
            medium_raw = "social" if name in SOCIAL_NETWORKS else "referral"
        else:
            source_raw, medium_raw = DIRECT

    source, medium = _norm(source_raw), _norm(medium_raw) or "(not set)"
    return Classification(
        source=source,
        medium=medium,
        campaign=_norm(campaign_raw) or "(not set)",
        channel=_channel(source, medium),
        source_raw=source_raw,
        medium_raw=medium_raw,
        campaign_raw=campaign_raw,
        click_id=click_id,
    )
