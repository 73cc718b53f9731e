"""A real browser loads /t.js from the tracker's own origin into a shop page."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import async_playwright

from schemas.names import Names
from streams.normalize import keyed_hash
from tests.integration.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.integration.tracker_support import HASH_KEY, read_topics, running_tracker
from tracker.settings import Settings

pytestmark = pytest.mark.integration

BROWSER_ARGS = [
    *CHROMIUM_ARGS,
    # shop.test and collect.test are two sites on loopback, with no DNS.
    "--host-resolver-rules=MAP *.test 127.0.0.1",
]
PAGE = """<!doctype html>
<html><head><title>Walk-in tubs</title>
<script async src="http://collect.test:{port}/t.js"></script></head>
<body><form id="demo"><input name="email" value="  Sam.Lee@Example.com"></form>
</body></html>
"""


def shop_app(tracker_port: int | None) -> web.Application:
    assert tracker_port is not None, "tracker server not started"

    async def landing(request: web.Request) -> web.Response:
        return web.Response(
            text=PAGE.format(port=tracker_port), content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/landing", landing)
    return app


async def test_snippet_on_shop_page_sends_pageview_and_identify(
    kafka_bootstrap: str, names: Names
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found; install it with: apt-get install -y chromium"
        )
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap, prefix=names.prefix, hash_key=HASH_KEY
    )

    async with running_tracker(settings) as tracker, async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS
        )
        try:
            async with TestServer(shop_app(tracker.port), host="127.0.0.1") as shop:
                landing = (
                    f"http://shop.test:{shop.port}/landing"
                    "?utm_source=google&utm_medium=cpc&utm_campaign=brand"
                )
                page = await browser.new_page()
                await page.goto(landing, referer="https://www.google.com/")
                await page.wait_for_function("window.leadroi !== undefined")
                visitor = await page.evaluate("leadroi.visitorId")
                await page.evaluate(
                    "leadroi.identify({email: document.forms.demo.email.value,"
                    " form: 'demo'})"
                )
                cookies = await page.context.cookies(landing)
        finally:
            await browser.close()
        topics = [names.touches, names.identities, names.deadletter]
        messages = await read_topics(kafka_bootstrap, topics, 2)

    [touch] = [m for m in messages if m.topic == names.touches]
    [identify] = [m for m in messages if m.topic == names.identities]
    assert [m for m in messages if m.topic == names.deadletter] == []
    assert {c["name"]: c["value"] for c in cookies}["lr_vid"] == visitor
    assert touch.key == identify.key == visitor.encode()
    assert touch.value["touch_kind"] == "pageview"
    assert touch.value["url"] == landing
    assert touch.value["referrer"] == "https://www.google.com/"
    assert "Chrome" in str(touch.value["user_agent"])
    assert identify.value["visitor_id"] == visitor
    assert identify.value["form"] == "demo"
    assert identify.value["email_hash"] == keyed_hash("sam.lee@example.com", HASH_KEY)
