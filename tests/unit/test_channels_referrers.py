from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from streams.channels import EXCLUDED_SPAM, classify
from streams.channels.referrers import (
    SEARCH,
    SHOPPING,
    SOCIAL,
    VIDEO,
    parse_categories,
    parse_socials,
    parse_spam,
    vendored_data,
)

DATA = Path(__file__).parents[2] / "streams" / "data"


def test_source_json_checksums_match_vendored_files() -> None:
    sources = json.loads((DATA / "SOURCE.json").read_text("utf-8"))

    for name, source in sources.items():
        digest = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        assert digest == source["sha256"], name
        assert {"repository", "path", "commit", "license", "fetched_on"} <= set(source)


def test_vendored_data_sizes_plausible() -> None:
    data = vendored_data()

    assert len(data.categories) > 800
    assert {SEARCH, SOCIAL, SHOPPING, VIDEO} == set(data.categories.values())
    assert len(data.spam) > 2000
    assert data.aliases["t.co"] == "twitter"


@pytest.mark.parametrize(
    ("host", "name", "category"),
    [
        ("www.google.com", "google", SEARCH),
        ("www.google.co.uk", "google", SEARCH),
        ("l.facebook.com", "facebook", SOCIAL),
        ("t.co", "twitter", SOCIAL),
        ("lnkd.in", "linkedin", SOCIAL),
        ("youtu.be", "youtube", VIDEO),
        ("www.amazon.de", "amazon", SHOPPING),
        ("search.yahoo.co.jp", "yahoo", SEARCH),
        ("partner.example.net", "partner.example.net", ""),
    ],
)
def test_site_known_and_unknown_hosts_named_and_categorised(
    host: str, name: str, category: str
) -> None:
    site = vendored_data().site(host)

    assert (site.name, site.category) == (name, category)


@pytest.mark.parametrize(
    "referrer",
    [
        "http://semalt.com/",
        "https://x.semalt.com/path",
        "http://buttons-for-website.com",
        "http://QIWI.xyz/",
    ],
)
def test_classify_spam_referrer_excluded_as_spam(referrer: str) -> None:
    found = classify(
        {
            "url": "https://www.example.com/?utm_source=x&utm_medium=y",
            "referrer": referrer,
        }
    )

    assert found.excluded == EXCLUDED_SPAM


def test_classify_lookalike_of_spam_domain_not_spam() -> None:
    found = classify(
        {"url": "https://www.example.com/", "referrer": "https://notsemalt.com/"}
    )

    assert found.excluded == ""


def test_parsers_skip_blank_and_foreign_rows() -> None:
    assert parse_categories(
        "source,source_category\nA,SOURCE_CATEGORY_SEARCH\nb,OTHER\n,x\n"
    ) == {"a": "search"}
    assert parse_socials('"Google%2B":\n  - plus.google.com \n') == {
        "plus.google.com": "google+"
    }
    assert parse_spam("a.com\n\n b.com \n") == frozenset({"a.com", "b.com"})
