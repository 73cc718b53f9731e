from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streams.channels import Classifier, classify, default_ruleset, load_ruleset
from streams.channels.errors import InvalidRuleSet
from streams.channels.rules import parse_ruleset
from streams.config import Settings

GA4_CHANNELS = {
    "Direct",
    "Cross-network",
    "Paid Shopping",
    "Paid Search",
    "Paid Social",
    "Paid Video",
    "Display",
    "Paid Other",
    "Organic Shopping",
    "Organic Social",
    "Organic Video",
    "Organic Search",
    "Referral",
    "Email",
    "Affiliates",
    "Audio",
    "SMS",
    "Mobile Push Notifications",
}
OFFLINE_CHANNELS = {"Phone", "Promo code", "Self-reported", "Event"}


def test_default_ruleset_every_ga4_and_offline_channel_present() -> None:
    ruleset = default_ruleset()
    channels = {rule.channel for rule in ruleset.rules}

    assert channels == GA4_CHANNELS | OFFLINE_CHANNELS
    assert ruleset.fallback_channel == "Unassigned"
    assert ruleset.version


@pytest.mark.parametrize(
    ("event", "channel"),
    [
        ({"url": "https://x.test/"}, "Direct"),
        (
            {
                "utm_source": "google",
                "utm_medium": "cpc",
                "utm_campaign": "pmax cross-network",
            },
            "Cross-network",
        ),
        ({"utm_source": "amazon", "utm_medium": "cpc"}, "Paid Shopping"),
        (
            {
                "utm_source": "partner",
                "utm_medium": "cpc",
                "utm_campaign": "summer_shop",
            },
            "Paid Shopping",
        ),
        ({"utm_source": "bing", "utm_medium": "cpc"}, "Paid Search"),
        ({"utm_source": "linkedin", "utm_medium": "paid_social"}, "Paid Social"),
        ({"utm_source": "youtube", "utm_medium": "cpv"}, "Paid Video"),
        ({"utm_source": "dv360", "utm_medium": "banner"}, "Display"),
        ({"utm_source": "partner", "utm_medium": "ppc"}, "Paid Other"),
        ({"utm_source": "etsy", "utm_medium": "referral"}, "Organic Shopping"),
        ({"utm_source": "reddit", "utm_medium": "post"}, "Organic Social"),
        ({"utm_source": "vimeo", "utm_medium": "embed"}, "Organic Video"),
        ({"utm_source": "partner", "utm_medium": "video_card"}, "Organic Video"),
        ({"utm_source": "ecosia.org", "utm_medium": "listing"}, "Organic Search"),
        ({"utm_source": "newsletter", "utm_medium": "E-Mail"}, "Email"),
        ({"utm_source": "partner", "utm_medium": "affiliate"}, "Affiliates"),
        ({"utm_source": "partner", "utm_medium": "link"}, "Referral"),
        ({"utm_source": "spotify", "utm_medium": "audio"}, "Audio"),
        ({"utm_source": "sms", "utm_medium": "text"}, "SMS"),
        ({"utm_source": "app", "utm_medium": "web_push"}, "Mobile Push Notifications"),
        ({"utm_source": "partner", "utm_medium": "weird"}, "Unassigned"),
        ({"touch_kind": "offline", "source": "CallRail", "medium": "Phone"}, "Phone"),
        ({"touch_kind": "offline", "source": "phone"}, "Phone"),
        (
            {"touch_kind": "offline", "source": "podcast", "medium": "promo_code"},
            "Promo code",
        ),
        (
            {"touch_kind": "offline", "source": "friend", "medium": "self-reported"},
            "Self-reported",
        ),
        ({"touch_kind": "offline", "source": "saastr", "medium": "tradeshow"}, "Event"),
        ({"utm_source": "zoom", "utm_medium": "webinar"}, "Event"),
    ],
)
def test_classify_each_channel_reached_by_its_rule(
    event: dict[str, Any], channel: str
) -> None:
    assert classify(event).channel == channel


def test_classify_records_ruleset_version_and_rule_name() -> None:
    found = classify({"utm_source": "google", "utm_medium": "cpc"})

    assert found.ruleset == default_ruleset().version
    assert found.rule == "paid_search"
    assert "paid pattern" in found.why


def user_rules(tmp_path: Path, text: str, suffix: str = ".yaml") -> Path:
    path = tmp_path / f"rules{suffix}"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_ruleset_user_yaml_file_replaces_default(tmp_path: Path) -> None:
    path = user_rules(
        tmp_path,
        """
version: acme-3
rules:
  - name: partners
    channel: Partners
    any: [{field: source, in: [Acme-Partner, reseller]}]
  - name: search
    channel: Search
    any: [{field: source_category, equals: search}]
fallback_channel: Other
""",
    )
    classifier = Classifier(load_ruleset(path))

    assert classifier.classify({"utm_source": "acme-partner"}).channel == "Partners"
    assert (
        classifier.classify(
            {"url": "https://x.test/", "referrer": "https://www.google.fr/"}
        ).channel
        == "Search"
    )
    assert (
        classifier.classify({"utm_source": "google", "utm_medium": "cpc"}).ruleset
        == "acme-3"
    )
    assert classifier.classify({"url": "https://x.test/"}).channel == "Other"


def test_classifier_from_settings_uses_rule_file_and_own_domains(
    tmp_path: Path,
) -> None:
    rules = json.loads(
        (Path(__file__).parents[2] / "streams/data/channel_rules.json").read_text(
            "utf-8"
        )
    )
    rules["version"] = "custom-1"
    path = user_rules(tmp_path, json.dumps(rules), ".json")
    settings = Settings.from_env(
        {
            "LEADROI_CHANNEL_RULES": str(path),
            "LEADROI_EXCLUDED_REFERRERS": "my-shop.io, help.my-shop.io",
        }
    )
    found = Classifier.from_settings(settings).classify(
        {"url": "https://store.example/", "referrer": "https://docs.my-shop.io/a"}
    )

    assert found.ruleset == "custom-1"
    assert found.excluded == "own_domain"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "top level"),
        (
            {
                "rules": [
                    {
                        "name": "a",
                        "channel": "A",
                        "any": [{"field": "source", "equals": "x"}],
                    }
                ]
            },
            "version",
        ),
        ({"version": "1", "rules": []}, "rules"),
        (
            {
                "version": "1",
                "rules": [
                    {
                        "name": "a",
                        "channel": "A",
                        "any": [{"field": "sauce", "equals": "x"}],
                    }
                ],
            },
            "rules[0].any[0].field",
        ),
        (
            {
                "version": "1",
                "rules": [
                    {
                        "name": "a",
                        "channel": "A",
                        "any": [{"field": "source", "like": "x"}],
                    }
                ],
            },
            "exactly one of",
        ),
        (
            {
                "version": "1",
                "rules": [
                    {
                        "name": "a",
                        "channel": "A",
                        "any": [{"field": "medium", "matches": "@nope"}],
                    }
                ],
            },
            "pattern name",
        ),
        (
            {
                "version": "1",
                "rules": [
                    {
                        "name": "a",
                        "channel": "A",
                        "any": [{"field": "medium", "matches": "(unclosed"}],
                    }
                ],
            },
            "valid regex",
        ),
        (
            {"version": "1", "rules": [{"name": "a", "channel": "A", "all": []}]},
            "non-empty list",
        ),
        (
            {
                "version": "1",
                "rules": [
                    {
                        "name": "a",
                        "channel": "A",
                        "any": [{"field": "medium", "in": "cpc"}],
                    }
                ],
            },
            "list of strings",
        ),
    ],
)
def test_parse_ruleset_invalid_file_error_names_the_part(
    raw: object, message: str
) -> None:
    with pytest.raises(InvalidRuleSet) as caught:
        parse_ruleset(raw, "rules.yaml")

    assert "rules.yaml" in str(caught.value)
    assert message in str(caught.value)


def test_load_ruleset_missing_file_invalid_ruleset(tmp_path: Path) -> None:
    with pytest.raises(InvalidRuleSet, match="cannot be read"):
        load_ruleset(tmp_path / "absent.yaml")


def test_load_ruleset_broken_yaml_invalid_ruleset(tmp_path: Path) -> None:
    with pytest.raises(InvalidRuleSet, match="not valid JSON or YAML"):
        load_ruleset(user_rules(tmp_path, "version: [1\n"))
