"""The tracker's pure parts: query strings, link targets, settings."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from schemas.errors import Problem
from tracker.hits import occurred_at_of
from tracker.query import append_query, join_query, params_of, split_query
from tracker.settings import (
    DEV_HASH_KEY,
    BadSetting,
    Settings,
    check_target,
    load_links,
)


class TestQuery:
    @pytest.mark.parametrize(
        "raw",
        [
            "utm_term=%2Bwalk-in+%2Btub",
            "a=1&a=2&b=&c",
            "utm_campaign=%E9t%E9&x=%EB%B7%B0",
            "q=a%26b%3Dc&r=%25",
        ],
    )
    def test_query_split_then_join_decodes_to_same_pairs(self, raw: str) -> None:
        pairs = split_query(raw)

        assert split_query(join_query(pairs)) == pairs
        as_bytes = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in parse_qsl(
                join_query(pairs), keep_blank_values=True, encoding="latin-1"
            )
        ]
        assert as_bytes == [(k, v or b"") for k, v in pairs]

    def test_query_bare_key_stays_bare(self) -> None:
        assert join_query(split_query("flag&a=1")) == "flag&a=1"

    def test_query_params_first_value_wins_and_names_lowercase(self) -> None:
        params = params_of(split_query("UTM_Source=Google&utm_source=bing"))

        assert params == {"utm_source": "Google"}

    @pytest.mark.parametrize(
        ("target", "raw", "expected"),
        [
            ("https://a.example/p", "x=1", "https://a.example/p?x=1"),
            ("https://a.example/p?k=v", "x=1", "https://a.example/p?k=v&x=1"),
            ("https://a.example/p?k=v#f", "x=1", "https://a.example/p?k=v&x=1#f"),
            ("https://a.example/p#f", "x=a+b", "https://a.example/p?x=a+b#f"),
            ("https://a.example/p?k=v#f", "", "https://a.example/p?k=v#f"),
            ("https://a.example/p", "x=%0d%0a", "https://a.example/p?x=%0D%0A"),
        ],
    )
    def test_append_query_goes_before_fragment(
        self, target: str, raw: str, expected: str
    ) -> None:
        assert append_query(target, raw) == expected


class TestTime:
    @pytest.mark.parametrize("ts", ["yesterday", "-5", "1.5e12", "99999999999999999"])
    def test_time_not_epoch_ms_is_a_problem_on_ts(self, ts: str) -> None:
        problem = occurred_at_of(ts)

        assert isinstance(problem, Problem)
        assert problem.field == "ts"

    def test_time_epoch_ms_becomes_iso(self) -> None:
        assert occurred_at_of("1764583200000") == "2025-12-01T10:00:00.000+00:00"


class TestLinks:
    @pytest.mark.parametrize(
        "target",
        [
            "javascript:alert(1)",
            "//evil.example/",
            "/relative/path",
            "https://user@evil.example/",
            "https://www.example.com\\@evil.example/",
            "ftp://www.example.com/file",
            "https://www.example.com/a b",
            "https://www.example.com/\r\nSet-Cookie: x",
            "https://evil.example/",
            "https://example.com.evil.example/",
            42,
        ],
    )
    def test_link_target_unsafe_or_foreign_is_refused(self, target: object) -> None:
        with pytest.raises(BadSetting, match="link 'go'"):
            check_target("go", target, ("example.com",))

    @pytest.mark.parametrize(
        "target", ["https://example.com/", "http://www.example.com/x?y=1#z"]
    )
    def test_link_target_on_own_domain_is_kept(self, target: str) -> None:
        assert check_target("go", target, ("example.com",)) == target

    def test_links_file_not_an_object_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "links.json"
        path.write_text('["https://www.example.com/"]')

        with pytest.raises(BadSetting, match="JSON object"):
            load_links(path)

    def test_links_file_missing_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(BadSetting, match="cannot read"):
            load_links(tmp_path / "absent.json")


class TestSettings:
    def test_settings_empty_env_gives_defaults_and_warns(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING):
            settings = Settings.from_env({})

        assert settings.kafka_bootstrap == "127.0.0.1:19092"
        assert (settings.host, settings.port, settings.partitions) == (
            "127.0.0.1",
            8080,
            4,
        )
        assert settings.names.touches == "leadroi.touches"
        assert settings.hash_key == DEV_HASH_KEY
        assert "LEADROI_HASH_KEY" in caplog.text

    def test_settings_env_values_are_used(self, tmp_path: Path) -> None:
        links = tmp_path / "links.json"
        links.write_text('{"go": "https://www.example.com/"}')
        env = {
            "LEADROI_KAFKA_BOOTSTRAP": "10.0.0.1:9092",
            "LEADROI_PREFIX": "acme",
            "LEADROI_HASH_KEY": "s3cret",
            "LEADROI_TRACKER_PORT": "9000",
            "LEADROI_PARTITIONS": "12",
            "LEADROI_LINKS": str(links),
            "LEADROI_OWN_DOMAINS": "Example.com, shop.example.org",
        }
        settings = Settings.from_env(env)

        assert settings.kafka_bootstrap == "10.0.0.1:9092"
        assert settings.names.deadletter == "acme.deadletter"
        assert settings.hash_key == b"s3cret"
        assert (settings.port, settings.partitions) == (9000, 12)
        assert settings.links == {"go": "https://www.example.com/"}
        assert settings.own_domains == ("example.com", "shop.example.org")

    @pytest.mark.parametrize("value", ["0", "-1", "many"])
    def test_settings_bad_partitions_is_refused(self, value: str) -> None:
        with pytest.raises(BadSetting, match="LEADROI_PARTITIONS"):
            Settings.from_env({"LEADROI_PARTITIONS": value, "LEADROI_HASH_KEY": "k"})

    @pytest.mark.parametrize(("value", "region"), [("br", "BR"), (" GB ", "GB")])
    def test_settings_phone_region_is_read_upper_case(
        self, value: str, region: str
    ) -> None:
        env = {"LEADROI_PHONE_REGION": value, "LEADROI_HASH_KEY": "k"}

        assert Settings.from_env(env).phone_region == region

    @pytest.mark.parametrize("value", ["", "XX", "USA"])
    def test_settings_unknown_phone_region_is_refused(self, value: str) -> None:
        with pytest.raises(BadSetting, match="LEADROI_PHONE_REGION"):
            Settings.from_env({"LEADROI_PHONE_REGION": value, "LEADROI_HASH_KEY": "k"})
