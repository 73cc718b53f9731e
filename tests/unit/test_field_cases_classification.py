"""Field cases F01–F27 (classification halves) from shared/field-cases.md.

Each case is tested with its example and at least three more variants of its kind.
"""

from __future__ import annotations

from typing import Any

import pytest

from streams.bots import is_bot
from streams.channels import (
    EXCLUDED_OWN_DOMAIN,
    EXCLUDED_PAYMENT,
    EXCLUDED_SIGN_IN,
    Classifier,
    classify,
)
from streams.channels.decoding import ENCODING_FALLBACK, URL_TRUNCATED

PAGE = "https://www.example.com/"


def touch(url: str, referrer: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "touch", "url": url, "referrer": referrer, **extra}


class TestF01PaidSearchTags:
    """F01: Google Ads traffic tagged cpc with a gclid lands in Paid Search."""

    def test_f01_google_cpc_with_gclid_is_paid_search(self) -> None:
        url = (
            f"{PAGE}?utm_source=google&utm_medium=cpc&utm_campaign=12345"
            "&utm_source_platform=google_ads&gad_source=1&gclid=TeSt0aBc"
        )
        found = classify(touch(url, "https://www.google.com/"))

        assert (found.source, found.medium, found.campaign) == (
            "google",
            "cpc",
            "12345",
        )
        assert found.click_id == "gclid=TeSt0aBc"
        assert found.channel == "Paid Search"

    @pytest.mark.parametrize(
        ("query", "channel"),
        [
            ("utm_source=google&utm_medium=ppc", "Paid Search"),
            ("utm_source=bing&utm_medium=paidsearch", "Paid Search"),
            ("utm_source=google&utm_medium=organic", "Organic Search"),
            ("utm_source=duckduckgo&utm_medium=retargeting", "Paid Search"),
            ("utm_source=yahoo.co.jp&utm_medium=cpc", "Paid Search"),
            ("utm_source=baidu&utm_medium=paid_search", "Paid Search"),
            ("utm_source=naver&utm_medium=ecpc", "Paid Search"),
        ],
    )
    def test_f01_search_source_with_medium_follows_paid_regex(
        self, query: str, channel: str
    ) -> None:
        found = classify(touch(f"{PAGE}?{query}", "https://www.google.com/"))

        assert found.channel == channel
        assert found.channel != "Direct"


class TestF02ClickIdWithoutTags:
    """F02: a click id without UTM tags still means paid; fbclid alone does not."""

    def test_f02_gclid_alone_means_google_cpc(self) -> None:
        found = classify(
            touch(f"{PAGE}pricing?gclid=TeSt1xyz", "https://www.google.com/")
        )

        assert (found.source, found.medium, found.channel) == (
            "google",
            "cpc",
            "Paid Search",
        )
        assert found.click_ids == {"gclid": "TeSt1xyz"}

    def test_f02_msclkid_alone_means_bing_cpc(self) -> None:
        found = classify(
            touch(f"{PAGE}pricing?msclkid=TeSt2xyz", "https://www.bing.com/")
        )

        assert (found.source, found.medium, found.channel) == (
            "bing",
            "cpc",
            "Paid Search",
        )
        assert found.click_ids == {"msclkid": "TeSt2xyz"}

    def test_f02_search_referrer_alone_is_organic_search(self) -> None:
        found = classify(touch(f"{PAGE}pricing", "https://www.google.com/"))

        assert (found.source, found.medium, found.channel) == (
            "google",
            "organic",
            "Organic Search",
        )
        assert found.click_ids == {}

    def test_f02_fbclid_alone_is_organic_social_with_click_id_kept(self) -> None:
        found = classify(
            touch(f"{PAGE}pricing?fbclid=TeSt3xyz", "https://l.facebook.com/")
        )

        assert (found.source, found.channel) == ("facebook", "Organic Social")
        assert found.click_ids == {"fbclid": "TeSt3xyz"}

    @pytest.mark.parametrize(
        ("query", "referrer"),
        [
            ("gbraid=0AAAAA-ios", "https://www.google.com/"),
            ("wbraid=CjkKCQ-web", ""),
            ("GCLID=upper123", "https://www.google.de/"),
            ("gclid=abc&utm_content=hero", ""),
        ],
    )
    def test_f02_google_click_id_variants_are_paid_search_without_referrer_help(
        self, query: str, referrer: str
    ) -> None:
        found = classify(touch(f"{PAGE}?{query}", referrer))

        assert (found.source, found.medium, found.channel) == (
            "google",
            "cpc",
            "Paid Search",
        )
        assert found.click_id

    @pytest.mark.parametrize(
        ("query", "referrer", "source", "channel"),
        [
            ("ttclid=tt1", "https://www.tiktok.com/", "tiktok", "Organic Social"),
            ("twclid=tw1", "https://t.co/abc", "twitter", "Organic Social"),
            ("fbclid=fb2", "", "(direct)", "Direct"),
            (
                "li_fat_id=li1",
                "https://www.linkedin.com/",
                "linkedin",
                "Organic Social",
            ),
        ],
    )
    def test_f02_social_click_ids_alone_are_not_proof_of_paid(
        self, query: str, referrer: str, source: str, channel: str
    ) -> None:
        found = classify(touch(f"{PAGE}?{query}", referrer))

        assert (found.source, found.channel) == (source, channel)
        assert found.click_ids


class TestF03CaseInsensitiveKeys:
    """F03 (classification half): keys found in any case, values kept raw."""

    def test_f03_mixed_case_keys_and_values_normalise_and_keep_raw(self) -> None:
        url = f"{PAGE}?UTM_SOURCE=Google&Utm_Medium=CPC&utm_campaign=Spring_Sale"
        found = classify(touch(url))

        assert (found.source_raw, found.medium_raw, found.campaign_raw) == (
            "Google",
            "CPC",
            "Spring_Sale",
        )
        assert (found.source, found.medium, found.campaign) == (
            "google",
            "cpc",
            "spring_sale",
        )
        assert found.channel == "Paid Search"

    def test_f03_same_key_as_lowercase_visitor_groups_equal(self) -> None:
        upper = classify(
            touch(f"{PAGE}?UTM_SOURCE=Google&Utm_Medium=CPC&utm_campaign=Spring_Sale")
        )
        lower = classify(
            touch(f"{PAGE}?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale")
        )

        assert (upper.source, upper.medium, upper.campaign) == (
            lower.source,
            lower.medium,
            lower.campaign,
        )

    def test_f03_facebook_paid_social_any_case_is_paid_social(self) -> None:
        found = classify(touch(f"{PAGE}?utm_source=Facebook&utm_medium=Paid_Social"))

        assert found.channel == "Paid Social"

    @pytest.mark.parametrize(
        ("query", "source", "medium"),
        [
            ("utm_source=%20Google%20&utm_medium=+CPC+", "google", "cpc"),
            ("Utm_Source=LinkedIn&UTM_medium=Social", "linkedin", "social"),
            (
                "utm_source=google&utm_source=bing&UTM_SOURCE=yahoo&utm_medium=cpc",
                "google",
                "cpc",
            ),
            ("utm_source=newsletter&amp;utm_medium=Email", "newsletter", "email"),
            ("%75tm_source=google&utm_medium=cpc", "google", "cpc"),
        ],
    )
    def test_f03_key_variants_are_found_and_first_wins(
        self, query: str, source: str, medium: str
    ) -> None:
        found = classify(touch(f"{PAGE}?{query}"))

        assert (found.source, found.medium) == (source, medium)

    def test_f03_spend_lines_group_with_touches_case_insensitively(self) -> None:
        spend = classify(
            {"source": " Google ", "medium": "CPC", "campaign": "Spring_Sale"}
        )
        tagged = classify(
            touch(f"{PAGE}?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale")
        )

        assert (spend.source, spend.medium, spend.campaign, spend.channel) == (
            tagged.source,
            tagged.medium,
            tagged.campaign,
            tagged.channel,
        )
        assert spend.source_raw == " Google "


class TestF04PlusAndEncodedPlus:
    """F04 (classification half): ``+`` is a space, ``%2B`` a literal plus."""

    def test_f04_pixel_term_keeps_literal_plus_and_space(self) -> None:
        url = (
            f"{PAGE}?utm_source=google&utm_medium=cpc&utm_campaign=walkin"
            "&utm_term=%2Bwalk-in+%2Btub"
        )
        found = classify(touch(url))

        assert found.term_raw == "+walk-in +tub"
        assert found.term == "+walk-in +tub"

    def test_f04_redirect_decoded_term_is_taken_verbatim(self) -> None:
        # The redirect endpoint decodes its query once and sends utm_term as a field.
        event = {
            "utm_source": "google",
            "utm_medium": "cpc",
            "utm_term": "+walk-in +tub",
        }

        assert classify(event).term_raw == "+walk-in +tub"

    @pytest.mark.parametrize(
        ("encoded", "term"),
        [
            ("%2Bwalk-in%20%2Btub", "+walk-in +tub"),
            ("%252Bwalk-in%2B%252Btub", "+walk-in +tub"),
            ("c%2B%2B+jobs", "c++ jobs"),
            ("a+%2B+b", "a + b"),
            ("100%25+off", "100% off"),
        ],
    )
    def test_f04_plus_space_variants_decode_exactly_once(
        self, encoded: str, term: str
    ) -> None:
        found = classify(
            touch(f"{PAGE}?utm_source=google&utm_medium=cpc&utm_term={encoded}")
        )

        assert found.term_raw == term
        assert "++" not in found.term_raw or "c++" in found.term_raw

    def test_f04_explicit_field_plus_is_not_a_space(self) -> None:
        found = classify(
            {"utm_source": "google", "utm_medium": "cpc", "utm_term": "c++"}
        )

        assert found.term_raw == "c++"


class TestF06NonAscii:
    """F06: non-ASCII campaign names survive; Latin-1 bytes fall back, flagged."""

    def test_f06_korean_utf8_campaign_is_intact(self) -> None:
        url = (
            f"{PAGE}?utm_source=naver&utm_medium=cpc"
            "&utm_campaign=kr_%EB%B7%B0%ED%8B%B0_2009"
        )
        found = classify(touch(url))

        assert found.campaign_raw == "kr_뷰티_2009"
        assert "ë" not in found.campaign_raw
        assert found.channel == "Paid Search"
        assert ENCODING_FALLBACK not in found.flags

    def test_f06_latin1_campaign_falls_back_with_flag(self) -> None:
        found = classify(
            touch(f"{PAGE}?utm_source=legacy&utm_medium=email&utm_campaign=%E9t%E9")
        )

        assert found.campaign_raw == "été"
        assert ENCODING_FALLBACK in found.flags
        assert found.channel == "Email"

    @pytest.mark.parametrize(
        ("encoded", "campaign"),
        [
            ("%D0%B2%D0%B5%D1%81%D0%BD%D0%B0", "весна"),
            ("sale_%F0%9F%8E%89", "sale_🎉"),
            ("東京セール", "東京セール"),
            ("cafe%CC%81", "café"),
        ],
    )
    def test_f06_utf8_variants_are_kept_in_nfc(
        self, encoded: str, campaign: str
    ) -> None:
        found = classify(
            touch(f"{PAGE}?utm_source=x&utm_medium=email&utm_campaign={encoded}")
        )

        assert found.campaign_raw == campaign
        assert ENCODING_FALLBACK not in found.flags

    @pytest.mark.parametrize(
        ("encoded", "campaign"),
        [("%80uro", "€uro"), ("Gr%FC%DFe", "Grüße"), ("na%EFve", "naïve")],
    )
    def test_f06_windows_1252_variants_are_accepted_and_flagged(
        self, encoded: str, campaign: str
    ) -> None:
        found = classify(
            touch(f"{PAGE}?utm_source=x&utm_medium=email&utm_campaign={encoded}")
        )

        assert found.campaign_raw == campaign
        assert ENCODING_FALLBACK in found.flags
        assert not found.excluded


class TestF07FragmentTags:
    """F07: UTM tags after ``#`` are read when the query has none."""

    def test_f07_fragment_tags_are_read(self) -> None:
        url = "http://localhost:3000/#utm_source=facebook&utm_medium=sn&utm_campaign=some_campaign"
        found = classify(touch(url))

        assert (found.source, found.medium, found.campaign) == (
            "facebook",
            "sn",
            "some_campaign",
        )
        assert found.channel == "Organic Social"

    def test_f07_hash_route_query_is_read(self) -> None:
        url = "https://app.example.com/#/signup?utm_source=partnerblog&utm_medium=referral&utm_campaign=q4"
        found = classify(touch(url))

        assert (found.source, found.medium, found.campaign) == (
            "partnerblog",
            "referral",
            "q4",
        )
        assert found.channel == "Referral"

    def test_f07_real_query_wins_over_fragment(self) -> None:
        url = (
            f"{PAGE}?utm_source=google&utm_medium=cpc"
            "#utm_source=twitter&utm_medium=social"
        )
        found = classify(touch(url))

        assert (found.source, found.medium, found.channel) == (
            "google",
            "cpc",
            "Paid Search",
        )

    @pytest.mark.parametrize(
        ("url", "source", "medium"),
        [
            (
                f"{PAGE}?page=2#utm_source=newsletter&utm_medium=email",
                "newsletter",
                "email",
            ),
            (f"{PAGE}#!/promo?UTM_SOURCE=Bing&utm_medium=CPC", "bing", "cpc"),
            (
                f"{PAGE}#utm_source=t.co&utm_medium=social&utm_campaign=a%20b",
                "t.co",
                "social",
            ),
            (f"{PAGE}?gclid=x#utm_source=mail&utm_medium=email", "mail", "email"),
        ],
    )
    def test_f07_fragment_variants_are_read(
        self, url: str, source: str, medium: str
    ) -> None:
        found = classify(touch(url))

        assert (found.source, found.medium) == (source, medium)

    def test_f07_anchor_without_tags_is_ignored(self) -> None:
        found = classify(touch(f"{PAGE}#pricing", "https://www.google.com/"))

        assert (found.source, found.channel) == ("google", "Organic Search")


class TestF09ReferralExclusion:
    """F09 (exclusion half): payment returns and own-domain hits are not touches."""

    def test_f09_newsletter_landing_is_email(self) -> None:
        url = "https://shop.example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=nov_promo"
        found = classify(touch(url))

        assert (found.channel, found.excluded) == ("Email", "")

    def test_f09_own_domain_referrer_is_excluded(self) -> None:
        found = classify(
            touch(
                "https://shop.example.com/cart", "https://shop.example.com/product/42"
            )
        )

        assert found.excluded == EXCLUDED_OWN_DOMAIN

    def test_f09_paypal_return_is_excluded(self) -> None:
        found = classify(
            touch(
                "https://shop.example.com/checkout/return?token=EC-FAKE123",
                "https://www.paypal.com/checkoutnow?token=EC-FAKE123",
            )
        )

        assert found.excluded == EXCLUDED_PAYMENT

    @pytest.mark.parametrize(
        ("referrer", "reason"),
        [
            ("https://checkout.stripe.com/c/pay/cs_test", EXCLUDED_PAYMENT),
            (
                "https://checkoutshopper-live.adyen.com/checkoutshopper/",
                EXCLUDED_PAYMENT,
            ),
            ("https://accounts.google.com/o/oauth2/auth", EXCLUDED_SIGN_IN),
            ("https://login.microsoftonline.com/common/oauth2", EXCLUDED_SIGN_IN),
            ("https://blog.example.com/post", EXCLUDED_OWN_DOMAIN),
            ("https://www.sandbox.paypal.com/", EXCLUDED_PAYMENT),
        ],
    )
    def test_f09_provider_and_sibling_referrers_are_excluded(
        self, referrer: str, reason: str
    ) -> None:
        found = classify(touch("https://shop.example.com/thanks", referrer))

        assert found.excluded == reason

    def test_f09_configured_own_domain_is_excluded(self) -> None:
        classifier = Classifier(own_domains=["example-checkout.net"])
        found = classifier.classify(
            touch("https://shop.example.com/done", "https://pay.example-checkout.net/x")
        )

        assert found.excluded == EXCLUDED_OWN_DOMAIN

    def test_f09_tagged_return_keeps_its_campaign(self) -> None:
        url = "https://shop.example.com/?utm_source=newsletter&utm_medium=email"
        found = classify(touch(url, "https://www.paypal.com/"))

        assert (found.excluded, found.channel) == ("", "Email")

    def test_f09_unrelated_external_referrer_is_a_referral(self) -> None:
        found = classify(
            touch("https://shop.example.com/", "https://partner-blog.example.org/")
        )

        assert (found.excluded, found.channel) == ("", "Referral")


class TestF23BotDetection:
    """F23 (detection half): headless browsers are bots, a normal Chrome is not."""

    HEADLESS = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36"
    )
    PRERENDER = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/118.0.0.0 Safari/537.36 Prerender (+https://github.com/prerender/prerender)"
    )
    CHROME = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )

    def test_f23_headless_and_prerender_are_bots_chrome_is_not(self) -> None:
        assert is_bot(self.HEADLESS)
        assert is_bot(self.PRERENDER)
        assert not is_bot(self.CHROME)

    @pytest.mark.parametrize(
        "agent",
        [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) HeadlessChrome/121.0.6167.85 Safari/537.36",
            "python-requests/2.31.0",
            "curl/8.5.0",
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        ],
    )
    def test_f23_crawler_variants_are_bots(self, agent: str) -> None:
        assert is_bot(agent)

    @pytest.mark.parametrize(
        "agent",
        [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
            "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 "
            "Safari/604.1",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 "
            "Firefox/121.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "",
        ],
    )
    def test_f23_human_browsers_are_not_bots(self, agent: str) -> None:
        assert not is_bot(agent)

    def test_f23_bot_flagged_touch_is_excluded_from_classification(self) -> None:
        found = classify(
            touch(
                f"{PAGE}?utm_source=google&utm_medium=cpc&utm_campaign=brand",
                is_bot=True,
            )
        )

        assert found.excluded == "bot"
        assert found.channel == "Paid Search"


class TestF27LongUrls:
    """F27 (parsing half): a long landing URL is parsed in full before any cut."""

    def long_url(self, content_chars: int) -> str:
        return (
            "https://www.example.com/landing?utm_source=google&utm_medium=cpc"
            f"&utm_campaign=brand_exact&utm_content={'a' * content_chars}"
            "&gclid=TeSt_long_123"
        )

    def test_f27_example_url_keeps_trailing_gclid(self) -> None:
        url = self.long_url(1000)
        found = classify(touch(url))

        assert len(url) == 1122
        assert url.index("&gclid") + 1 == 1103  # 1-based, as the case counts
        assert (found.source, found.medium, found.campaign) == (
            "google",
            "cpc",
            "brand_exact",
        )
        assert len(found.content_raw) == 1000
        assert found.click_ids == {"gclid": "TeSt_long_123"}
        assert found.channel == "Paid Search"
        assert URL_TRUNCATED not in found.flags

    @pytest.mark.parametrize("content_chars", [3000, 8000, 19500])
    def test_f27_longer_urls_are_parsed_whole_and_stored_cut_with_flag(
        self, content_chars: int
    ) -> None:
        url = self.long_url(content_chars)
        found = classify(touch(url))

        assert found.click_ids == {"gclid": "TeSt_long_123"}
        assert len(found.content_raw) == content_chars
        assert URL_TRUNCATED in found.flags
        assert len(found.landing_url) < len(url)
        assert url.startswith(found.landing_url)

    def test_f27_long_referrer_is_parsed(self) -> None:
        referrer = "https://www.google.com/search?q=" + "x" * 5000
        found = classify(touch(f"{PAGE}?gclid=abc", referrer))

        assert found.referrer_host == "www.google.com"
        assert found.channel == "Paid Search"
