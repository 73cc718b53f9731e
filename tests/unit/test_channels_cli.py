from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner

from leadroi.channel_data import RefreshFailed, refresh
from leadroi.cli import main

DATA = Path(__file__).parents[2] / "streams" / "data"
SHA = "f" * 40


def test_channels_explain_prints_rule_and_reason() -> None:
    url = "https://www.example.com/?UTM_SOURCE=Google&Utm_Medium=CPC&gclid=abc"
    result = CliRunner().invoke(
        main, ["channels", "explain", url, "https://www.google.com/"]
    )

    assert result.exit_code == 0, result.output
    assert "Paid Search" in result.output
    assert "paid_search" in result.output
    assert "raw 'Google'" in result.output
    assert "gclid=abc" in result.output


def test_channels_explain_excluded_referrer_says_so() -> None:
    result = CliRunner().invoke(
        main,
        [
            "channels",
            "explain",
            "https://shop.example.com/return",
            "https://www.paypal.com/x",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "payment: this hit starts no touch" in result.output


def test_channels_explain_json_and_own_domain_option() -> None:
    result = CliRunner().invoke(
        main,
        [
            "channels",
            "explain",
            "https://a.test/",
            "https://help.mine.test/",
            "--own-domain",
            "mine.test",
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["excluded"] == "own_domain"


def test_channels_explain_bad_rule_file_reports_error(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("version: x\nrules: []\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["channels", "explain", "https://a.test/", "--rules", str(rules)]
    )

    assert result.exit_code != 0
    assert "non-empty list" in str(result.exception)


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


@asynccontextmanager
async def serve(files: dict[str, bytes]) -> AsyncIterator[str]:
    async def repo(request: web.Request) -> web.Response:
        return web.json_response({"default_branch": "main"})

    async def commit(request: web.Request) -> web.Response:
        return web.json_response({"sha": SHA})

    async def raw(request: web.Request) -> web.Response:
        body = files.get(request.match_info["path"])
        return web.Response(body=body) if body is not None else web.Response(status=404)

    app = web.Application()
    app.router.add_get("/repos/{owner}/{name}", repo)
    app.router.add_get("/repos/{owner}/{name}/commits/{branch}", commit)
    app.router.add_get("/{owner}/{name}/{sha}/{path:.+}", raw)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def upstream_files(spam_extra: str = "") -> dict[str, bytes]:
    return {
        "seeds/ga4_source_categories.csv": (
            DATA / "ga4_source_categories.csv"
        ).read_bytes(),
        "Socials.yml": (DATA / "matomo_socials.yml").read_bytes(),
        "spammers.txt": (DATA / "referrer_spam.txt").read_bytes() + spam_extra.encode(),
    }


async def test_refresh_new_upstream_files_written_with_provenance(
    data_copy: Path,
) -> None:
    async with serve(upstream_files("new-spammer.example\n")) as base:
        results = await refresh(
            data_copy,
            api_url=base,
            raw_url=base,
            today=dt.date(2027, 1, 2),
            timeout_s=5,
        )

    sources = json.loads((data_copy / "SOURCE.json").read_text("utf-8"))
    spam = (data_copy / "referrer_spam.txt").read_bytes()
    assert {r.name: r.changed for r in results} == {
        "ga4_source_categories.csv": False,
        "matomo_socials.yml": False,
        "referrer_spam.txt": True,
    }
    assert spam.endswith(b"new-spammer.example\n")
    assert sources["referrer_spam.txt"]["sha256"] == hashlib.sha256(spam).hexdigest()
    assert sources["referrer_spam.txt"]["commit"] == SHA
    assert sources["referrer_spam.txt"]["fetched_on"] == "2027-01-02"


async def test_refresh_truncated_download_refused_nothing_written(
    data_copy: Path,
) -> None:
    files = upstream_files()
    files["Socials.yml"] = b"Facebook:\n  - facebook.com\n"
    before = (data_copy / "SOURCE.json").read_bytes()

    with pytest.raises(RefreshFailed, match="expected at least"):
        async with serve(files) as base:
            await refresh(data_copy, api_url=base, raw_url=base, timeout_s=5)

    assert (data_copy / "SOURCE.json").read_bytes() == before
    assert (data_copy / "matomo_socials.yml").read_bytes() == (
        DATA / "matomo_socials.yml"
    ).read_bytes()


async def test_refresh_missing_upstream_file_fails_with_status(data_copy: Path) -> None:
    files = upstream_files()
    del files["spammers.txt"]

    with pytest.raises(RefreshFailed, match="status 404"):
        async with serve(files) as base:
            await refresh(data_copy, api_url=base, raw_url=base, timeout_s=5)
