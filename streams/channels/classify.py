"""Touch classification: tags, click ids and referrer to source, medium, channel.

Precedence: explicit ``utm_*`` fields of the event, then tags in the page URL
(query, or fragment when the query has none), then an inferred click id (gclid
means google / cpc), then the referrer, then Direct. Referrers from the site's
own domains and from payment and sign-in providers never start a touch; known
referrer spam is dropped with reason ``spam`` so the caller can count it.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from streams.channels.decoding import URL_TRUNCATED, parse_url, shorten_url
from streams.channels.referrers import (
    SEARCH,
    ReferrerData,
    matches_domain,
    registrable_domain,
    vendored_data,
)
from streams.channels.rules import RuleSet, default_ruleset, load_ruleset
from streams.config import Settings

EXCLUDED_SPAM = "spam"
EXCLUDED_OWN_DOMAIN = "own_domain"
EXCLUDED_PAYMENT = "payment"
EXCLUDED_SIGN_IN = "sign_in"
EXCLUDED_BOT = "bot"

NOT_SET = "(not set)"
DIRECT = ("(direct)", "(none)")
TAG_FIELDS = ("source", "medium", "campaign", "term", "content")


@dataclass(frozen=True)
class Classification:
    source: str
    medium: str
    campaign: str
    channel: str
    source_raw: str
    medium_raw: str
    campaign_raw: str
    # The first click id found, as ``name=value``; all of them are in click_ids.
    click_id: str
    ruleset: str
    # Non-empty when the hit must not become a touch: own_domain, payment,
    # sign_in, spam or bot.
    excluded: str = ""
    term: str = ""
    content: str = ""
    term_raw: str = ""
    content_raw: str = ""
    click_ids: dict[str, str] = field(default_factory=dict)
    source_category: str = ""
    referrer_host: str = ""
    rule: str = ""
    why: str = ""
    flags: tuple[str, ...] = ()
    landing_url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Origin:
    raw: dict[str, str]
    basis: str
    category: str = ""
    entry: str = ""


def _norm(value: str) -> str:
    return value.strip().lower()


def _explicit(event: Mapping[str, Any], name: str) -> str:
    # Explicit fields arrive decoded already: no percent or ``+`` handling here.
    value = event.get(f"utm_{name}") or event.get(name) or ""
    return unicodedata.normalize("NFC", str(value))


class Classifier:
    """Classifies touches with one rule set, one referrer data set and one list
    of own domains. Build it once per process; it caches host look-ups."""

    def __init__(
        self,
        ruleset: RuleSet | None = None,
        data: ReferrerData | None = None,
        own_domains: Iterable[str] = (),
    ) -> None:
        self.ruleset = ruleset or default_ruleset()
        self.data = data or vendored_data()
        self.own_domains = frozenset(
            _norm(d).removeprefix("www.") for d in own_domains if d.strip()
        )
        self.payment = self.ruleset.exclusions.get("payment", frozenset())
        self.sign_in = self.ruleset.exclusions.get("sign_in", frozenset())
        self.exclusion = functools.lru_cache(maxsize=8192)(self._exclusion)

    @classmethod
    def from_settings(cls, settings: Settings) -> Classifier:
        path = settings.channel_rules_path
        ruleset = load_ruleset(path) if path else None
        return cls(ruleset, own_domains=settings.excluded_referrers)

    def _exclusion(self, referrer_host: str, page_host: str) -> str:
        """Why a referrer host may not start a touch, or ``""``."""
        host = referrer_host.removeprefix("www.")
        if matches_domain(host, self.own_domains):
            return EXCLUDED_OWN_DOMAIN
        if page_host and registrable_domain(host) == registrable_domain(
            page_host.removeprefix("www.")
        ):
            return EXCLUDED_OWN_DOMAIN
        if matches_domain(host, self.payment):
            return EXCLUDED_PAYMENT
        if matches_domain(host, self.sign_in):
            return EXCLUDED_SIGN_IN
        return ""

    def classify(self, event: Mapping[str, Any]) -> Classification:
        url = str(event.get("url") or "")
        page = parse_url(url) if url else None
        params = page.params if page else {}
        flags = set(page.flags) if page else set()
        landing_url, truncated = shorten_url(url)
        if truncated:
            flags.add(URL_TRUNCATED)

        tags = {name: params.get(f"utm_{name}", "") for name in TAG_FIELDS}
        for name in TAG_FIELDS:
            if explicit := _explicit(event, name):
                tags[name] = explicit
        click_ids = {
            name: str(event.get(name) or params.get(name, ""))
            for name in self.ruleset.click_id_names
            if event.get(name) or params.get(name)
        }
        referrer_host = parse_url(str(event.get("referrer") or "")).host

        origin, excluded = self._origin(
            event, tags, click_ids, referrer_host, page.host if page else ""
        )
        source_raw, medium_raw = origin.raw["source"], origin.raw["medium"]
        source, medium = _norm(source_raw) or NOT_SET, _norm(medium_raw) or NOT_SET
        campaign = _norm(tags["campaign"]) or NOT_SET
        if not origin.category and origin.basis != "referrer":
            origin.category, origin.entry = self.data.category_of(source)

        fields = {
            "source": source,
            "medium": medium,
            "campaign": campaign,
            "term": _norm(tags["term"]),
            "content": _norm(tags["content"]),
            "source_category": origin.category,
            "touch_kind": _norm(str(event.get("touch_kind") or "")),
            "click_id": next(iter(click_ids), ""),
            "referrer_host": referrer_host,
        }
        found = self.ruleset.match(fields)
        why = f"{origin.basis}; {found.why}"
        if excluded:
            why = f"excluded as {excluded} ({origin.basis}); would be {found.why}"
        if origin.entry:
            why += f" (source category from list entry {origin.entry!r})"

        return Classification(
            source=source,
            medium=medium,
            campaign=campaign,
            channel=found.channel,
            source_raw=source_raw,
            medium_raw=medium_raw,
            campaign_raw=tags["campaign"],
            click_id=next((f"{k}={v}" for k, v in click_ids.items()), ""),
            ruleset=self.ruleset.version,
            excluded=excluded,
            term=fields["term"],
            content=fields["content"],
            term_raw=tags["term"],
            content_raw=tags["content"],
            click_ids=click_ids,
            source_category=origin.category,
            referrer_host=referrer_host,
            rule=found.rule,
            why=why,
            flags=tuple(sorted(flags)),
            landing_url=landing_url,
        )

    def _origin(
        self,
        event: Mapping[str, Any],
        tags: Mapping[str, str],
        click_ids: Mapping[str, str],
        referrer_host: str,
        page_host: str,
    ) -> tuple[_Origin, str]:
        excluded = EXCLUDED_BOT if event.get("is_bot") else ""
        if referrer_host and self.data.is_spam(referrer_host):
            excluded = EXCLUDED_SPAM

        if tags["source"].strip() or tags["medium"].strip():
            raw = {"source": tags["source"], "medium": tags["medium"]}
            return _Origin(raw, "tagged: source and medium from utm tags"), excluded

        inferred = next(
            (n for n in click_ids if n in self.ruleset.inferred_click_ids), ""
        )
        if inferred:
            source, medium = self.ruleset.inferred_click_ids[inferred]
            basis = f"untagged: {inferred} means {source} / {medium}"
            return _Origin({"source": source, "medium": medium}, basis), excluded

        if referrer_host:
            excluded = excluded or self.exclusion(referrer_host, page_host)
            site = self.data.site(referrer_host)
            medium = "organic" if site.category == SEARCH else "referral"
            basis = f"untagged: referrer {referrer_host}"
            origin = _Origin(
                {"source": site.name, "medium": medium},
                basis,
                site.category,
                site.entry,
            )
            return origin, excluded

        return _Origin(
            dict(zip(("source", "medium"), DIRECT, strict=True)),
            "untagged: no referrer",
        ), excluded


_default: Classifier | None = None


def default_classifier() -> Classifier:
    global _default
    if _default is None:
        _default = Classifier()
    return _default


def classify(
    event: Mapping[str, Any], classifier: Classifier | None = None
) -> Classification:
    """Classify one touch event with ``classifier`` (the shipped rules by default)."""
    return (classifier or default_classifier()).classify(event)
