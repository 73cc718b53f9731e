from __future__ import annotations

import pytest

from streams.channels.decoding import (
    DOUBLE_ENCODED,
    DUPLICATE_KEYS,
    ENCODING_FALLBACK,
    FRAGMENT_TAGS,
    HASH_ROUTE_TAGS,
    HTML_ESCAPED_QUERY,
    UNPARSABLE_URL,
    host_of,
    parse_params,
    parse_url,
    percent_decode,
    shorten_url,
)


@pytest.mark.parametrize(
    ("text", "form", "expected"),
    [
        ("a+b", True, "a b"),
        ("a+b", False, "a+b"),
        ("%2B", True, "+"),
        ("%41%42", False, "AB"),
        ("50%off", True, "50%off"),
        ("%", True, "%"),
        ("%zz", True, "%zz"),
    ],
)
def test_percent_decode_single_layer_expected_text(
    text: str, form: bool, expected: str
) -> None:
    assert percent_decode(text, form=form).text == expected


def test_percent_decode_double_encoded_decoded_twice_and_flagged() -> None:
    found = percent_decode("spring%2520sale", form=True)

    assert found.text == "spring sale"
    assert DOUBLE_ENCODED in found.flags


def test_percent_decode_literal_percent_after_one_layer_not_decoded_again() -> None:
    found = percent_decode("100%25%20off%2520", form=True)

    assert found.text == "100% off%20"
    assert DOUBLE_ENCODED not in found.flags


def test_percent_decode_mixed_utf8_and_latin1_bytes_falls_back_per_byte() -> None:
    found = percent_decode("%C3%A9%E9", form=True)

    assert found.text == "éé"
    assert ENCODING_FALLBACK in found.flags


def test_percent_decode_decomposed_text_normalised_to_nfc() -> None:
    assert percent_decode("e%CC%81", form=True).text == "\u00e9"


def test_parse_params_duplicate_key_first_wins_and_flagged() -> None:
    found = parse_params("UTM_Source=a&utm_source=b")

    assert found.values == {"utm_source": "a"}
    assert DUPLICATE_KEYS in found.flags


def test_parse_params_html_escaped_ampersand_key_recovered() -> None:
    found = parse_params("utm_source=a&amp;utm_medium=b")

    assert found.values == {"utm_source": "a", "utm_medium": "b"}
    assert HTML_ESCAPED_QUERY in found.flags


def test_parse_params_blank_and_valueless_parts_kept_or_skipped() -> None:
    assert parse_params("&&a&b=&=c").values == {"a": "", "b": ""}


def test_parse_url_fragment_tags_only_without_query_tags() -> None:
    plain = parse_url("https://x.test/#utm_source=a")
    route = parse_url("https://x.test/#/r?utm_source=b")
    both = parse_url("https://x.test/?utm_source=c#utm_source=d&utm_medium=e")

    assert (plain.params["utm_source"], FRAGMENT_TAGS in plain.flags) == ("a", True)
    assert (route.params["utm_source"], HASH_ROUTE_TAGS in route.flags) == ("b", True)
    assert both.params == {"utm_source": "c"}


def test_parse_url_bad_ipv6_host_flagged_not_raised() -> None:
    assert UNPARSABLE_URL in parse_url("http://[::1/x?utm_source=a").flags


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://WWW.Google.COM./search", "www.google.com"),
        ("www.bing.com/", "www.bing.com"),
        ("//t.co/abc", "t.co"),
        ("https://bücher.de/", "xn--bcher-kva.de"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("", ""),
    ],
)
def test_host_of_various_forms_ascii_lowercase_host(url: str, host: str) -> None:
    assert host_of(url) == host


def test_shorten_url_over_limit_cut_and_reported() -> None:
    assert shorten_url("abcdef", 4) == ("abcd", True)
    assert shorten_url("abc", 4) == ("abc", False)
