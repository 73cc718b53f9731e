"""HTTP behaviour of the tracker, with an in-memory sink in place of Kafka."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from schemas.names import Names
from streams.normalize import keyed_hash
from tracker.app import make_app
from tracker.http import TRACKER
from tracker.settings import Settings
from tracker.sink import Record, SinkUnavailable

Client = TestClient[web.Request, web.Application]

HASH_KEY = b"unit-test-key"
NAMES = Names("unit")
LINKS = {
    "tub-offer": "https://www.example.com/products/walk-in-tub",
    "spring-ws": "https://www.example.com/workshop?lang=en#agenda",
}
GIF_BYTES = base64.b64decode(
    "R0lGODlhAQABAIABAAAAAP///yH5BAEAAAEALAAAAAABAAEAAAICTAEAOw=="
)
IDENTIFY = {"type": "identify", "visitor_id": "v1", "email": " Max.R@Example.org "}
TOUCH = {"type": "touch", "visitor_id": "v2", "url": "https://www.example.com/"}
TRUNCATED = b'{"type":"identify","visitor_id":"v2801","email":"max.r@example.org"'
TRAILING_GARBAGE = b'{"type":"deal","deal_id":"D-2801","status":"won","amount":12000}x'


class MemorySink:
    """Keeps records in a list; ``down`` makes it refuse like an absent broker."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.down = False

    async def send_many(self, records: Sequence[Record]) -> None:
        if self.down:
            raise SinkUnavailable("memory sink: switched off by the test")
        self.records.extend(records)

    def on(self, topic: str) -> list[dict[str, Any]]:
        return [dict(r.value) for r in self.records if r.topic == topic]


@pytest.fixture()
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture()
def settings() -> Settings:
    return Settings(prefix=NAMES.prefix, hash_key=HASH_KEY, links=LINKS)


@pytest.fixture()
async def client(sink: MemorySink, settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(make_app(settings, sink))) as client:
        yield client


async def settle(client: Client) -> None:
    """Wait for the background sends a redirect leaves behind."""
    await client.app[TRACKER].drain(timeout_s=5)


async def metric_value(client: Client, line_start: str) -> float:
    text = await (await client.get("/metrics")).text()
    found = [line for line in text.splitlines() if line.startswith(line_start)]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


class TestPixel:
    async def test_pixel_valid_hit_answers_gif_and_stores_touch(
        self, client: Client, sink: MemorySink
    ) -> None:
        query = {
            "vid": "v101",
            "url": "https://www.example.com/?utm_source=google&gclid=TeSt0aBc",
            "ref": "https://www.google.com/",
            "ts": "1764583200000",
        }
        response = await client.get("/t/px", params=query, headers={"User-Agent": "UA"})

        assert response.status == 200
        assert await response.read() == GIF_BYTES
        assert len(GIF_BYTES) == 43
        assert response.headers["Content-Type"] == "image/gif"
        assert response.headers["Content-Length"] == "43"
        assert response.headers["Cache-Control"] == (
            "no-store, no-cache, must-revalidate, max-age=0"
        )
        assert response.headers["Pragma"] == "no-cache"
        assert response.headers["Expires"] == "0"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
        [touch] = sink.on(NAMES.touches)
        assert touch["visitor_id"] == "v101"
        assert touch["url"] == query["url"]
        assert touch["referrer"] == query["ref"]
        assert touch["user_agent"] == "UA"
        assert touch["touch_kind"] == "pageview"
        assert touch["occurred_at"] == "2025-12-01T10:00:00.000+00:00"
        assert "set-cookie" not in response.headers

    async def test_pixel_bad_time_answers_gif_and_dead_letters(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.get("/t/px?vid=v1&ts=yesterday")

        assert response.status == 200
        assert await response.read() == GIF_BYTES
        assert sink.on(NAMES.touches) == []
        [letter] = sink.on(NAMES.deadletter)
        assert letter["endpoint"] == "/t/px"
        assert letter["raw"] == "vid=v1&ts=yesterday"
        assert [p["field"] for p in letter["problems"]] == ["ts"]
        rejected = 'leadroi_tracker_events_rejected_total{kind="touch"'
        assert await metric_value(client, rejected) == 1

    async def test_pixel_without_vid_sets_cookie_and_reuses_it(
        self, client: Client, sink: MemorySink
    ) -> None:
        first = await client.get("/t/px?url=https%3A%2F%2Fwww.example.com%2F")
        cookie = first.cookies["lr_vid"]
        await client.get("/t/px?url=https%3A%2F%2Fwww.example.com%2Fnext")

        assert cookie["samesite"] == "Lax"
        assert cookie["max-age"] == str(365 * 24 * 3600)
        assert cookie["path"] == "/"
        visitors = [t["visitor_id"] for t in sink.on(NAMES.touches)]
        assert visitors == [cookie.value, cookie.value]

    async def test_pixel_plus_and_encoded_plus_keep_space_and_plus(
        self, client: Client, sink: MemorySink
    ) -> None:
        await client.get("/t/px?vid=v4&utm_source=google&utm_term=%2Bwalk-in+%2Btub")

        [touch] = sink.on(NAMES.touches)
        assert touch["utm_term"] == "+walk-in +tub"
        assert touch["utm_source"] == "google"

    async def test_pixel_campaign_in_latin1_or_korean_decodes_to_text(
        self, client: Client, sink: MemorySink
    ) -> None:
        await client.get("/t/px?vid=v601&utm_campaign=kr_%EB%B7%B0%ED%8B%B0_2009")
        await client.get("/t/px?vid=v602&UTM_CAMPAIGN=%E9t%E9")

        campaigns = [t["utm_campaign"] for t in sink.on(NAMES.touches)]
        assert campaigns == ["kr_뷰티_2009", "été"]

    async def test_pixel_long_url_is_stored_whole(
        self, client: Client, sink: MemorySink
    ) -> None:
        landing = (
            "https://www.example.com/landing?utm_source=google&utm_medium=cpc"
            f"&utm_campaign=brand_exact&utm_content={'a' * 1000}&gclid=TeSt_long_123"
        )
        at_limit = "https://www.example.com/?q=" + "b" * (8192 - 27)
        await client.get("/t/px", params={"vid": "v27", "url": landing})
        response = await client.get("/t/px", params={"vid": "v28", "url": at_limit})

        assert response.status == 200
        urls = [t["url"] for t in sink.on(NAMES.touches)]
        assert urls == [landing, at_limit]
        assert len(at_limit) == 8192
        assert urls[0].endswith("&gclid=TeSt_long_123")

    async def test_pixel_url_of_20000_chars_answers_414_and_counts(
        self, client: Client, sink: MemorySink
    ) -> None:
        url = "https://www.example.com/?q=" + "c" * 20_000
        response = await client.get("/t/px", params={"vid": "v29", "url": url})

        assert response.status == 414
        assert (await response.json())["error"] == "uri_too_long"
        assert sink.records == []
        oversize = 'leadroi_tracker_oversize_rejections_total{endpoint="/t/px"}'
        assert await metric_value(client, oversize) == 1

    async def test_pixel_head_answers_gif_and_stores_nothing(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.head("/t/px?vid=v1")

        assert response.status == 200
        assert response.headers["Content-Type"] == "image/gif"
        assert sink.records == []

    async def test_pixel_user_agent_over_schema_limit_is_cut_not_refused(
        self, client: Client, sink: MemorySink
    ) -> None:
        user_agent = "Mozilla/5.0 " + "x" * 3000
        await client.get("/t/px?vid=v1", headers={"User-Agent": user_agent})

        [touch] = sink.on(NAMES.touches)
        assert touch["user_agent"] == user_agent[:2048]

    async def test_pixel_kafka_down_still_answers_gif(
        self, client: Client, sink: MemorySink
    ) -> None:
        sink.down = True
        response = await client.get("/t/px?vid=v1")

        assert response.status == 200
        assert await response.read() == GIF_BYTES


class TestRedirect:
    async def test_redirect_plus_and_encoded_plus_survive_one_decode(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.get(
            "/r/tub-offer?utm_source=google&utm_medium=cpc&utm_campaign=walkin"
            "&utm_term=%2Bwalk-in+%2Btub",
            allow_redirects=False,
        )
        await settle(client)

        assert response.status == 302
        assert response.headers["Location"] == (
            "https://www.example.com/products/walk-in-tub?utm_source=google"
            "&utm_medium=cpc&utm_campaign=walkin&utm_term=%2Bwalk-in+%2Btub"
        )
        assert response.headers["Cache-Control"] == "no-store"
        [click] = sink.on(NAMES.touches)
        assert click["touch_kind"] == "click"
        assert click["utm_term"] == "+walk-in +tub"
        assert click["url"] == response.headers["Location"]
        assert click["visitor_id"] == response.cookies["lr_vid"].value

    @pytest.mark.parametrize(
        ("raw", "term"),
        [
            ("%2B%2Bboth", "++both"),
            ("a+b+%2Bc", "a b +c"),
            ("a%20b+c", "a b c"),
            ("%252B", "%2B"),
        ],
    )
    async def test_redirect_f04_term_variants_match_the_landing_pixel(
        self, client: Client, sink: MemorySink, raw: str, term: str
    ) -> None:
        response = await client.get(
            f"/r/tub-offer?utm_term={raw}", allow_redirects=False
        )
        await settle(client)
        landing_query = response.headers["Location"].split("?", 1)[1]
        await client.get(f"/t/px?vid=v4&{landing_query}")

        click, pageview = sink.on(NAMES.touches)
        assert click["utm_term"] == pageview["utm_term"] == term

    async def test_redirect_target_with_query_and_fragment_keeps_both(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.get(
            "/r/spring-ws?utm_source=partnerblog&utm_medium=referral"
            "&utm_campaign=spring_ws",
            allow_redirects=False,
        )
        await settle(client)

        assert response.headers["Location"] == (
            "https://www.example.com/workshop?lang=en&utm_source=partnerblog"
            "&utm_medium=referral&utm_campaign=spring_ws#agenda"
        )
        [click] = sink.on(NAMES.touches)
        assert (click["utm_source"], click["utm_campaign"]) == (
            "partnerblog",
            "spring_ws",
        )

    async def test_redirect_without_query_goes_to_target_unchanged(
        self, client: Client
    ) -> None:
        response = await client.get("/r/spring-ws", allow_redirects=False)

        assert response.headers["Location"] == LINKS["spring-ws"]

    async def test_redirect_head_answers_302_and_records_no_click(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.head("/r/tub-offer?x=1", allow_redirects=False)
        await settle(client)

        assert response.status == 302
        assert response.headers["Location"] == f"{LINKS['tub-offer']}?x=1"
        assert sink.records == []

    async def test_redirect_unknown_slug_answers_404(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.get("/r/no-such-link", allow_redirects=False)

        assert response.status == 404
        assert (await response.json())["error"] == "unknown_link"
        assert sink.records == []

    @pytest.mark.parametrize(
        "path",
        [
            "/r/%2F%2Fevil.example",
            "/r/https:%2F%2Fevil.example",
            "/r/tub-offer/..%2F..%2Fevil.example",
            "/r/%5C%5Cevil.example",
        ],
    )
    async def test_redirect_target_in_path_answers_404(
        self, client: Client, path: str
    ) -> None:
        response = await client.get(path, allow_redirects=False)

        assert response.status == 404
        assert "Location" not in response.headers

    @pytest.mark.parametrize(
        "query",
        [
            "url=https%3A%2F%2Fevil.example%2F",
            "next=//evil.example",
            "redirect=javascript:alert(1)",
            "a=%0D%0ALocation:%20https://evil.example",
        ],
    )
    async def test_redirect_target_in_query_is_only_forwarded(
        self, client: Client, query: str
    ) -> None:
        response = await client.get(f"/r/tub-offer?{query}", allow_redirects=False)
        location = response.headers["Location"]

        assert response.status == 302
        assert location.startswith(f"{LINKS['tub-offer']}?")
        assert "\r" not in location and "\n" not in location
        assert "evil.example" not in location.split("?", 1)[0]


class TestEvents:
    async def test_event_valid_identify_answers_202_with_hashed_email(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.post("/v1/events", json=IDENTIFY)

        assert response.status == 202
        body = await response.json()
        [record] = [r for r in sink.records if r.topic == NAMES.identities]
        assert body == {"status": "accepted", "event_id": record.value["event_id"]}
        assert record.key == "v1"
        assert record.value["email_hash"] == keyed_hash("max.r@example.org", HASH_KEY)
        assert b"max.r" not in orjson.dumps(record.value).lower()

    @pytest.mark.parametrize(
        ("kind", "event", "topic"),
        [
            ("touch", TOUCH, NAMES.touches),
            ("call", {"call_id": "c-1", "caller": "+14155550111"}, NAMES.identities),
            ("stage", {"lead_id": "L-1", "stage": "mql"}, NAMES.crm),
            (
                "deal",
                {"deal_id": "D-1", "status": "won", "amount": "1.5", "currency": "usd"},
                NAMES.crm,
            ),
            (
                "spend",
                {"date": "2026-11-30", "source": "google", "amount": "300.00"}
                | {"currency": "USD"},
                NAMES.spend,
            ),
        ],
    )
    async def test_event_kind_endpoint_routes_to_its_topic(
        self,
        client: Client,
        sink: MemorySink,
        kind: str,
        event: dict[str, Any],
        topic: str,
    ) -> None:
        response = await client.post(f"/v1/events/{kind}", json=event)

        assert response.status == 202, await response.text()
        [record] = sink.records
        assert record.topic == topic
        assert record.value["type"] == kind

    async def test_event_deal_amount_becomes_minor_units(
        self, client: Client, sink: MemorySink
    ) -> None:
        deal = {
            "deal_id": "D-9",
            "status": "won",
            "amount": "240.00",
            "currency": "USD",
        }
        await client.post("/v1/events/deal", json=deal)

        [record] = sink.records
        assert record.value["amount_minor"] == 24000
        assert "amount" not in record.value

    async def test_event_missing_field_answers_400_naming_it(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.post("/v1/events", json={"type": "touch", "url": "x"})

        assert response.status == 400
        body = await response.json()
        assert body["error"] == "invalid_event"
        assert [p["field"] for p in body["problems"]] == ["visitor_id"]
        [letter] = sink.on(NAMES.deadletter)
        assert letter["reason"] == "invalid_event"
        assert orjson.loads(letter["raw"]) == {"type": "touch", "url": "x"}

    async def test_event_kind_differs_from_endpoint_answers_400_on_type(
        self, client: Client
    ) -> None:
        response = await client.post("/v1/events/deal", json=TOUCH)

        assert response.status == 400
        fields = [p["field"] for p in (await response.json())["problems"]]
        assert "type" in fields

    async def test_event_unknown_kind_answers_404(self, client: Client) -> None:
        response = await client.post("/v1/events/purchase", json=TOUCH)

        assert response.status == 404
        assert (await response.json())["error"] == "unknown_kind"

    async def test_event_negative_won_amount_answers_400_on_amount(
        self, client: Client, sink: MemorySink
    ) -> None:
        deal = {"deal_id": "D-3", "status": "won", "amount": "-500.00"}
        response = await client.post("/v1/events/deal", json=deal | {"currency": "USD"})

        assert response.status == 400
        fields = [p["field"] for p in (await response.json())["problems"]]
        assert fields == ["amount"]
        assert sink.on(NAMES.crm) == []

    @pytest.mark.parametrize(
        ("body", "error", "says"),
        [
            (TRUNCATED, "malformed_json", "end of data"),
            (TRAILING_GARBAGE, "malformed_json", "after document"),
            (b"", "malformed_json", "empty"),
            (b"\xff\xfe{}", "malformed_json", "UTF-8"),
            (b"[1, 2]", "invalid_event", "expected a JSON object"),
            (b'{"type": 7}', "invalid_event", "not an event type"),
        ],
    )
    async def test_event_malformed_body_answers_400_with_reason(
        self, client: Client, sink: MemorySink, body: bytes, error: str, says: str
    ) -> None:
        response = await client.post(
            "/v1/events", data=body, headers={"Content-Type": "application/json"}
        )

        assert response.status == 400
        answer = await response.json()
        assert answer["error"] == error
        assert says in orjson.dumps(answer).decode()
        assert [r.topic for r in sink.records] == [NAMES.deadletter]

    async def test_event_wrong_amount_type_answers_400_and_next_is_accepted(
        self, client: Client, sink: MemorySink
    ) -> None:
        deal = {"deal_id": "D-2802", "status": "won", "amount": {"value": 12}}
        bad = await client.post("/v1/events/deal", json=deal | {"currency": "USD"})
        good = await client.post("/v1/events/identify", json=IDENTIFY)

        assert bad.status == 400
        fields = [p["field"] for p in (await bad.json())["problems"]]
        assert "amount" in fields
        assert good.status == 202
        assert sink.on(NAMES.crm) == []
        assert len(sink.on(NAMES.identities)) == 1

    async def test_event_body_over_64_kib_answers_413(
        self, client: Client, sink: MemorySink
    ) -> None:
        event = TOUCH | {"referrer": "r" * (65 * 1024)}
        response = await client.post("/v1/events", json=event)

        assert response.status == 413
        assert (await response.json())["error"] == "too_large"
        assert sink.records == []

    @pytest.mark.parametrize("path", ["/v1/events", "/t/beacon"])
    @pytest.mark.parametrize("field", ["url", "referrer"])
    async def test_event_url_of_20000_chars_answers_413_and_counts(
        self, client: Client, sink: MemorySink, path: str, field: str
    ) -> None:
        event = TOUCH | {field: "https://www.example.com/?q=" + "c" * 20_000}
        response = await client.post(path, json=event)

        assert response.status == 413
        assert (await response.json())["reason"].startswith(f"{field}: 20027 ")
        assert sink.records == []
        oversize = f'leadroi_tracker_oversize_rejections_total{{endpoint="{path}"}}'
        assert await metric_value(client, oversize) == 1

    @pytest.mark.parametrize("path", ["/v1/events", "/t/beacon"])
    async def test_event_f27_long_landing_url_is_stored_whole(
        self, client: Client, sink: MemorySink, path: str
    ) -> None:
        landing = (
            "https://www.example.com/landing?utm_source=google&utm_medium=cpc"
            f"&utm_campaign=brand_exact&utm_content={'a' * 1000}&gclid=TeSt_long_123"
        )
        response = await client.post(path, data=orjson.dumps(TOUCH | {"url": landing}))

        assert response.status in (202, 204)
        [touch] = sink.on(NAMES.touches)
        assert touch["url"] == landing
        assert len(landing) == 1122 and landing.index("&gclid") == 1102

    async def test_event_kafka_down_answers_503_with_retry_after(
        self, client: Client, sink: MemorySink
    ) -> None:
        sink.down = True
        response = await client.post("/v1/events", json=TOUCH)

        assert response.status == 503
        assert int(response.headers["Retry-After"]) > 0
        assert (await response.json())["error"] == "kafka_unavailable"


class TestBatch:
    async def test_batch_mixed_answers_207_item_by_item(
        self, client: Client, sink: MemorySink
    ) -> None:
        events = [TOUCH, {"type": "touch"}, IDENTIFY]
        response = await client.post("/v1/batch", json={"events": events})

        assert response.status == 207
        body = await response.json()
        assert (body["accepted"], body["rejected"]) == (2, 1)
        assert [r["status"] for r in body["results"]] == [
            "accepted",
            "rejected",
            "accepted",
        ]
        assert body["results"][1]["problems"][0]["field"] == "visitor_id"
        stored = {
            r.value["event_id"] for r in sink.records if r.topic != NAMES.deadletter
        }
        assert stored == {
            body["results"][0]["event_id"],
            body["results"][2]["event_id"],
        }
        [letter] = sink.on(NAMES.deadletter)
        assert orjson.loads(letter["raw"]) == {"type": "touch"}

    async def test_batch_item_with_too_long_url_is_rejected_alone(
        self, client: Client, sink: MemorySink
    ) -> None:
        long_url = TOUCH | {"url": "https://www.example.com/?q=" + "c" * 20_000}
        response = await client.post("/v1/batch", json={"events": [long_url, TOUCH]})

        assert response.status == 207
        [rejected, _] = (await response.json())["results"]
        assert [p["field"] for p in rejected["problems"]] == ["url"]
        assert len(sink.on(NAMES.touches)) == 1

    async def test_batch_all_valid_answers_200(self, client: Client) -> None:
        response = await client.post("/v1/batch", json={"events": [TOUCH, IDENTIFY]})

        assert response.status == 200
        assert (await response.json())["accepted"] == 2

    async def test_batch_none_valid_answers_400(
        self, client: Client, sink: MemorySink
    ) -> None:
        events = [{"type": "touch"}, {"type": "nope"}]
        response = await client.post("/v1/batch", json={"events": events})

        assert response.status == 400
        assert (await response.json())["rejected"] == 2
        assert len(sink.on(NAMES.deadletter)) == 2

    @pytest.mark.parametrize("body", [{"events": []}, {"events": {}}, [TOUCH], {}])
    async def test_batch_wrong_shape_answers_400(
        self, client: Client, body: Any
    ) -> None:
        response = await client.post("/v1/batch", json=body)

        assert response.status == 400
        assert (await response.json())["error"] == "invalid_batch"

    async def test_batch_too_many_events_answers_413(self, client: Client) -> None:
        response = await client.post("/v1/batch", json={"events": [TOUCH] * 1001})

        assert response.status == 413
        assert (await response.json())["error"] == "too_many_events"

    async def test_batch_body_over_1_mib_answers_413(self, client: Client) -> None:
        event = TOUCH | {"referrer": "r" * 16_000}
        body = io.BytesIO(orjson.dumps({"events": [event] * 70}))
        response = await client.post("/v1/batch", data=body)

        assert response.status == 413


class TestBrowser:
    async def test_beacon_text_plain_answers_204_with_user_agent(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.post(
            "/t/beacon",
            data=orjson.dumps(TOUCH),
            headers={"Content-Type": "text/plain;charset=UTF-8", "User-Agent": "UA"},
        )

        assert response.status == 204
        [touch] = sink.on(NAMES.touches)
        assert touch["user_agent"] == "UA"

    async def test_beacon_invalid_event_answers_400(self, client: Client) -> None:
        response = await client.post("/t/beacon", data=b'{"type":"identify"}')

        assert response.status == 400
        assert (await response.json())["error"] == "invalid_event"

    async def test_preflight_answers_204_with_cors_headers(
        self, client: Client
    ) -> None:
        headers = {
            "Origin": "https://www.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        response = await client.options("/v1/events/touch", headers=headers)

        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"

    async def test_cors_own_domains_allow_only_their_origins(
        self, sink: MemorySink
    ) -> None:
        settings = Settings(prefix=NAMES.prefix, own_domains=("example.com",))
        async with TestClient(TestServer(make_app(settings, sink))) as client:
            own = await client.post(
                "/v1/events", json=TOUCH, headers={"Origin": "https://shop.example.com"}
            )
            other = await client.post(
                "/v1/events", json=TOUCH, headers={"Origin": "https://evil.example"}
            )

        assert own.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
        assert "Access-Control-Allow-Origin" not in other.headers

    async def test_snippet_served_as_javascript(self, client: Client) -> None:
        response = await client.get("/t.js")

        assert response.status == 200
        assert response.content_type == "application/javascript"
        assert "sendBeacon" in await response.text()


class TestF23BotsAtIngest:
    """F23 (tracker half): every browser path flags headless agents at ingest."""

    HEADLESS = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36"
    )
    PRERENDER = f"{HEADLESS} Prerender (+https://github.com/prerender/prerender)"
    CHROME = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )
    PAGE = (
        "https://www.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"
    )

    async def test_f23_pixel_hits_flag_headless_and_prerender_not_chrome(
        self, client: Client, sink: MemorySink
    ) -> None:
        for vid, agent in (
            ("b1", self.HEADLESS),
            ("b2", self.PRERENDER),
            ("h1", self.CHROME),
        ):
            response = await client.get(
                "/t/px",
                params={"vid": vid, "url": self.PAGE},
                headers={"User-Agent": agent},
            )
            assert response.status == 200

        flags = {t["visitor_id"]: t["is_bot"] for t in sink.on(NAMES.touches)}
        assert flags == {"b1": True, "b2": True, "h1": False}

    async def test_f23_beacon_form_of_headless_browser_is_flagged(
        self, client: Client, sink: MemorySink
    ) -> None:
        form = {"type": "identify", "visitor_id": "b1", "email": "x@example.org"}
        response = await client.post(
            "/t/beacon",
            data=orjson.dumps(form),
            headers={"Content-Type": "text/plain", "User-Agent": self.HEADLESS},
        )

        assert response.status == 204
        [identify] = sink.on(NAMES.identities)
        assert identify["is_bot"] is True

    async def test_f23_event_with_bot_user_agent_field_is_flagged(
        self, client: Client, sink: MemorySink
    ) -> None:
        touch = {**TOUCH, "user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
        response = await client.post("/v1/events", json=touch)

        assert response.status == 202
        [stored] = sink.on(NAMES.touches)
        assert stored["is_bot"] is True

    async def test_f23_redirect_click_of_bot_is_flagged(
        self, client: Client, sink: MemorySink
    ) -> None:
        response = await client.get(
            "/r/spring-ws?utm_source=partnerblog",
            allow_redirects=False,
            headers={"User-Agent": "curl/8.5.0"},
        )
        await settle(client)

        assert response.status == 302
        [click] = sink.on(NAMES.touches)
        assert click["is_bot"] is True


class TestService:
    async def test_healthz_answers_ok(self, client: Client) -> None:
        response = await client.get("/healthz")

        assert response.status == 200
        assert await response.json() == {"status": "ok"}

    async def test_metrics_count_accepted_and_latency(self, client: Client) -> None:
        await client.post("/v1/events", json=TOUCH)
        await client.post("/v1/events", json=TOUCH)

        accepted = 'leadroi_tracker_events_accepted_total{kind="touch"}'
        latency = "leadroi_tracker_request_seconds_count{"
        assert await metric_value(client, accepted) == 2
        assert await metric_value(client, latency) >= 2

    async def test_unknown_path_answers_json_404(self, client: Client) -> None:
        response = await client.get("/nope")

        assert response.status == 404
        assert (await response.json())["error"] == "not_found"

    async def test_unexpected_error_answers_json_500(
        self, client: Client, sink: MemorySink, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def broken(records: Sequence[Record]) -> None:
            raise RuntimeError("simulated bug")

        monkeypatch.setattr(sink, "send_many", broken)
        response = await client.post("/v1/events", json=TOUCH)

        assert response.status == 500
        assert (await response.json())["error"] == "internal"

    async def test_wrong_method_answers_405(self, client: Client) -> None:
        response = await client.get("/v1/batch")

        assert response.status == 405
        assert "POST" in response.headers["Allow"]
