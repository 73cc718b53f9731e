"""What a referrer host is: its site name, its GA4 source category, spam or not.

The lists come from vendored public data sets (see ``streams/data/SOURCE.json``):
GA4's source categories, Matomo's social network list and Matomo's referrer spam
list. They are read once per process.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from urllib.parse import unquote

import tldextract
import yaml

from streams.channels.errors import MissingReferrerData

CATEGORIES_FILE = "ga4_source_categories.csv"
SOCIALS_FILE = "matomo_socials.yml"
SPAM_FILE = "referrer_spam.txt"

SEARCH = "search"
SOCIAL = "social"
SHOPPING = "shopping"
VIDEO = "video"
_CATEGORY_PREFIX = "SOURCE_CATEGORY_"

# Offline only: the public-suffix snapshot shipped inside tldextract.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@dataclass(frozen=True)
class Site:
    """A referrer host as a source: ``l.facebook.com`` is site ``facebook``."""

    name: str
    category: str
    known: bool
    # The data-set entry that gave the category, shown by ``channels explain``.
    entry: str = ""


def read_data_text(name: str) -> str:
    try:
        return resources.files("streams").joinpath("data", name).read_text("utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise MissingReferrerData(
            f"streams/data/{name}: cannot be read ({exc}); expected the vendored copy"
        ) from exc


def parse_categories(text: str) -> dict[str, str]:
    """GA4 source-category rows (``source,source_category``) by lower-cased source."""
    categories: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        source = (row.get("source") or "").strip().lower()
        category = (row.get("source_category") or "").strip().upper()
        if source and category.startswith(_CATEGORY_PREFIX):
            categories.setdefault(
                source, category.removeprefix(_CATEGORY_PREFIX).lower()
            )
    return categories


def parse_socials(text: str) -> dict[str, str]:
    """Matomo's ``Name: [host, ...]`` social list as host → lower-cased name."""
    loaded = yaml.safe_load(text) or {}
    aliases: dict[str, str] = {}
    for name, hosts in loaded.items():
        for host in hosts or ():
            clean = str(host).strip().lower().partition("://")[2] or str(host).strip()
            aliases.setdefault(clean.lower().rstrip("/"), unquote(str(name)).lower())
    return aliases


def parse_spam(text: str) -> frozenset[str]:
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def parent_domains(host: str) -> Iterator[str]:
    """``a.b.example.com`` → itself, ``b.example.com``, ``example.com``, ``com``."""
    labels = host.split(".")
    for start in range(len(labels)):
        yield ".".join(labels[start:])


def matches_domain(host: str, domains: Iterable[str] | frozenset[str]) -> str:
    """The listed domain that ``host`` is, or is a subdomain of; ``""`` if none."""
    listed = domains if isinstance(domains, frozenset) else frozenset(domains)
    return next((d for d in parent_domains(host) if d in listed), "")


@functools.lru_cache(maxsize=8192)
def registrable_domain(host: str) -> str:
    """``shop.example.co.uk`` → ``example.co.uk``; the host itself when it has no
    public suffix (``localhost``, an IP address)."""
    extracted = _EXTRACT(host)
    return extracted.top_domain_under_public_suffix or host


class ReferrerData:
    def __init__(
        self,
        categories: dict[str, str],
        aliases: dict[str, str],
        spam: frozenset[str],
    ) -> None:
        self.categories = categories
        self.aliases = aliases
        self.spam = spam
        self.site = functools.lru_cache(maxsize=8192)(self._site)

    @classmethod
    def vendored(cls) -> ReferrerData:
        return cls(
            parse_categories(read_data_text(CATEGORIES_FILE)),
            parse_socials(read_data_text(SOCIALS_FILE)),
            parse_spam(read_data_text(SPAM_FILE)),
        )

    def is_spam(self, host: str) -> bool:
        return bool(host) and bool(matches_domain(host, self.spam))

    def category_of(self, source: str) -> tuple[str, str]:
        """A tagged source's category and the list entry that gave it."""
        value = source.strip().lower()
        if not value:
            return "", ""
        if value in self.categories:
            return self.categories[value], value
        if "." in value:
            site = self.site(value)
            return site.category, site.entry
        return "", ""

    def _site(self, host: str) -> Site:
        bare = host.removeprefix("www.")
        alias = next(
            (self.aliases[d] for d in parent_domains(bare) if d in self.aliases), ""
        )
        domain = registrable_domain(bare)
        label = _EXTRACT(bare).domain or bare
        name = alias or label

        candidates = [d for d in parent_domains(bare) if len(d) >= len(domain)]
        for entry in [*candidates, name]:
            if entry in self.categories:
                return Site(name, self.categories[entry], True, entry)
        if alias:
            return Site(alias, SOCIAL, True, alias)
        return Site(bare, "", False)


@functools.cache
def vendored_data() -> ReferrerData:
    return ReferrerData.vendored()
