"""Field cases from shared/field-cases.md about identity, journeys and time.

F09 (journey half), F10, F12, F18, F20, F23 (stream half), F25 and F29, each
with its example and at least three more variants of its kind. Form posts are
``identify`` events with a visitor id and an e-mail; CRM webhooks are ``deal``
events; call webhooks are ``call`` events.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from streams.config import Settings
from streams.engine import Engine
from streams.normalize import keyed_hash
from tests.events import (
    KEY,
    call,
    deal,
    figures,
    identify,
    metric_total,
    run,
    tagged,
    touch,
    wire,
)

MODELS = Settings().models
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36"
)
PRERENDER = (
    f"{HEADLESS.replace('120.0.0.0', '118.0.0.0')} "
    "Prerender (+https://github.com/prerender/prerender)"
)
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def email_node(address: str) -> str:
    return f"email:{keyed_hash(address, KEY)}"


def channel_revenue(
    engine: Engine, model: str, currency: str = "USD"
) -> dict[str, int]:
    return {
        value: amount
        for (value, metric), amount in figures(engine, model).items()
        if metric == f"revenue:{currency}"
    }


def shuffled(events: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    copy = events[:]
    random.Random(seed).shuffle(copy)
    return copy


class TestF09OneTouchAfterPaymentReturn:
    """F09: payment returns and own-domain hits add no touch; the deal is all Email."""

    SHOP = "https://shop.example.com"

    def events(self, returns: list[tuple[str, str]]) -> list[dict[str, Any]]:
        tags = "utm_source=newsletter&utm_medium=email&utm_campaign=nov_promo"
        landing = f"{self.SHOP}/?{tags}"
        events = [touch("t0", "v901", "2026-11-20T10:00:00Z", landing)]
        for n, (page, referrer) in enumerate(returns):
            at = f"2026-11-20T10:0{n + 3}:00Z"
            events.append(
                touch(f"t{n + 1}", "v901", at, f"{self.SHOP}{page}", referrer)
            )
        events.append(
            identify(
                "form",
                "2026-11-20T10:08:30Z",
                visitor_id="v901",
                email="pat.jones@example.org",
                form="order",
            )
        )
        events.append(
            deal(
                "d",
                "D-901",
                "2026-11-20T10:30:00Z",
                "240.00",
                email="pat.jones@example.org",
            )
        )
        return events

    def assert_all_email(self, engine: Engine) -> None:
        [lead] = engine.leads().values()
        touches = list(lead["journey"]["touches"].values())
        assert [(t["channel"], t["campaign"]) for t in touches] == [
            ("Email", "nov_promo")
        ]
        for model in MODELS:
            assert channel_revenue(engine, model) == {"Email": 24000}, model
            assert figures(engine, model)[("Email", "won")] == 1_000_000, model

    def test_f09_paypal_return_and_own_cart_leave_one_email_touch(self) -> None:
        engine = run(
            self.events(
                [
                    ("/cart", f"{self.SHOP}/product/42"),
                    (
                        "/checkout/return?token=EC-FAKE123",
                        "https://www.paypal.com/checkoutnow?token=EC-FAKE123",
                    ),
                ]
            )
        )

        self.assert_all_email(engine)

    @pytest.mark.parametrize(
        "returns",
        [
            [
                ("/thanks", "https://checkout.stripe.com/c/pay/cs_test_1"),
                ("/account", "https://accounts.google.com/o/oauth2/auth"),
            ],
            [
                ("/done", "https://www.sandbox.paypal.com/checkoutnow"),
                ("/done", "https://checkoutshopper-live.adyen.com/checkoutshopper/"),
            ],
            [
                ("/product/7", "https://blog.example.com/post"),
                ("/checkout", "https://shop.example.com/cart"),
            ],
        ],
    )
    def test_f09_other_gateways_and_own_hosts_add_no_touch(
        self, returns: list[tuple[str, str]]
    ) -> None:
        self.assert_all_email(run(self.events(returns)))

    def test_f09_configured_checkout_domain_adds_no_touch(self) -> None:
        settings = Settings(excluded_referrers=("example-checkout.net",))
        events = self.events([("/paid", "https://pay.example-checkout.net/x")])

        self.assert_all_email(run(events, settings))

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_f09_deal_before_the_hits_gives_the_same_credit(self, seed: int) -> None:
        events = self.events([("/return", "https://www.paypal.com/")])

        self.assert_all_email(
            Engine(Settings(), shuffle=random.Random(seed)).run(
                wire(e) for e in shuffled(events, seed)
            )
        )


class TestF10LastNonDirect:
    """F10: a later Direct visit does not take credit under last non-direct."""

    @staticmethod
    def lead(
        visits: list[tuple[str, str, str]], vid: str = "v1001"
    ) -> list[dict[str, Any]]:
        events = [
            touch(f"{vid}-{n}", vid, at, url, ref)
            for n, (at, url, ref) in enumerate(visits)
        ]
        events.append(
            identify(
                f"{vid}-form",
                "2026-11-05T14:42:00Z",
                visitor_id=vid,
                email="lee.wong@example.org",
                form="demo",
            )
        )
        events.append(
            deal(
                "d",
                "D-1001",
                "2026-11-20T00:00:00Z",
                "3000.00",
                email="lee.wong@example.org",
            )
        )
        return events

    SEARCH = (
        "2026-11-02T09:15:00Z",
        "https://www.example.com/blog/roi-guide",
        "https://www.google.com/",
    )
    DIRECT = ("2026-11-05T14:40:00Z", "https://www.example.com/demo", "")

    def test_f10_organic_then_direct_credits_organic_under_last_non_direct(
        self,
    ) -> None:
        engine = run(self.lead([self.SEARCH, self.DIRECT]))

        assert channel_revenue(engine, "last_non_direct") == {"Organic Search": 300000}
        assert channel_revenue(engine, "last_touch") == {"Direct": 300000}
        assert channel_revenue(engine, "first_touch") == {"Organic Search": 300000}
        for model in ("linear", "u_shaped"):
            assert channel_revenue(engine, model) == {
                "Organic Search": 150000,
                "Direct": 150000,
            }
        sources = figures(engine, "last_non_direct", "source")
        assert sources[("google / organic", "leads")] == 1_000_000
        assert sources[("google / organic", "revenue:USD")] == 300000
        assert ("(direct) / (none)", "leads") not in sources

    def test_f10_paid_then_two_direct_visits_credit_paid(self) -> None:
        paid = (
            "2026-11-01T08:00:00Z",
            "https://www.example.com/?utm_source=google&utm_medium=cpc",
            "",
        )
        second = ("2026-11-04T08:00:00Z", "https://www.example.com/", "")

        engine = run(self.lead([paid, second, self.DIRECT]))

        assert channel_revenue(engine, "last_non_direct") == {"Paid Search": 300000}
        assert channel_revenue(engine, "last_touch") == {"Direct": 300000}

    def test_f10_only_direct_visits_credit_direct(self) -> None:
        first = ("2026-11-01T08:00:00Z", "https://www.example.com/", "")

        engine = run(self.lead([first, self.DIRECT]))

        assert channel_revenue(engine, "last_non_direct") == {"Direct": 300000}

    def test_f10_direct_around_an_email_credits_email(self) -> None:
        before = ("2026-11-01T08:00:00Z", "https://www.example.com/", "")
        mail = (
            "2026-11-03T08:00:00Z",
            "https://www.example.com/?utm_source=news&utm_medium=email",
            "",
        )

        engine = run(self.lead([before, mail, self.DIRECT]))

        assert channel_revenue(engine, "last_non_direct") == {"Email": 300000}
        assert channel_revenue(engine, "first_touch") == {"Direct": 300000}

    def test_f10_direct_visit_on_second_device_does_not_take_credit(self) -> None:
        events = self.lead([self.SEARCH])
        events += self.lead(
            [("2026-11-06T09:00:00Z", "https://www.example.com/", "")], vid="phone-1"
        )[:2]

        engine = run(events)

        assert len(engine.leads()) == 1
        assert channel_revenue(engine, "last_non_direct") == {"Organic Search": 300000}
        assert channel_revenue(engine, "last_touch") == {"Direct": 300000}


class TestF12CookieLost:
    """F12: a returning visitor with a new cookie is still one lead."""

    PAID = (
        "https://www.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"
    )

    def visit(
        self, vid: str, at: str, url: str, ref: str = "", **ids: Any
    ) -> list[dict[str, Any]]:
        form_at = at.replace(":00Z", ":30Z")
        return [
            touch(f"{vid}-px", vid, at, url, ref, user_agent="Safari"),
            identify(f"{vid}-form", form_at, visitor_id=vid, **ids),
        ]

    def two_cookies(
        self, first: dict[str, str], second: dict[str, str]
    ) -> list[dict[str, Any]]:
        """A paid visit and a form on cookie a1, a direct visit and a form on a2."""
        google = "https://www.google.com/"
        return [
            *self.visit("a1", "2026-11-01T08:00:00Z", self.PAID, google, **first),
            *self.visit(
                "a2", "2026-11-12T19:30:00Z", "https://www.example.com/demo", **second
            ),
        ]

    def assert_one_paid_lead(self, engine: Engine, visitors: list[str]) -> None:
        [(lead, state)] = engine.leads().items()
        assert {f"visitor:{v}" for v in visitors} <= set(state["members"])
        assert all(engine.lead_of(f"visitor:{v}") == lead for v in visitors)
        for model in MODELS:
            november = [
                amount
                for cell, amount in engine.totals().items()
                if cell.scope == model
                and cell.dimension == "channel"
                and cell.metric == "leads"
                and cell.day.startswith("2026-11")
            ]
            assert sum(november) == 1_000_000, model
            assert ("Direct", "leads") not in figures(engine, model), model
        sources = figures(engine, "first_touch", "source")
        assert sources[("google / cpc", "leads")] == 1_000_000

    def test_f12_two_cookies_one_email_make_one_lead(self) -> None:
        email = {"email": "jo.park@example.org"}

        engine = run(self.two_cookies(email, email))

        self.assert_one_paid_lead(engine, ["a1", "a2"])
        assert engine.lead_of("visitor:a1") == email_node("jo.park@example.org")

    def test_f12_three_cookies_over_a_month_make_one_lead(self) -> None:
        engine = run(
            [
                *self.visit(
                    "a1", "2026-11-01T08:00:00Z", self.PAID, email="jo@example.org"
                ),
                *self.visit(
                    "a2",
                    "2026-11-09T08:00:00Z",
                    "https://www.example.com/",
                    email="jo@example.org",
                ),
                *self.visit(
                    "a3",
                    "2026-11-17T08:00:00Z",
                    "https://www.example.com/x",
                    email="Jo@Example.org",
                ),
            ]
        )

        self.assert_one_paid_lead(engine, ["a1", "a2", "a3"])

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_f12_second_cookie_arriving_first_changes_nothing(self, seed: int) -> None:
        email = {"email": "jo@example.org"}
        events = self.two_cookies(email, email)

        engine = Engine(Settings(), shuffle=random.Random(seed)).run(
            wire(e) for e in reversed(shuffled(events, seed))
        )

        self.assert_one_paid_lead(engine, ["a1", "a2"])

    def test_f12_phone_written_two_ways_makes_one_lead(self) -> None:
        events = self.two_cookies(
            {"phone": "(415) 555-0111"}, {"phone": "+1 415-555-0111"}
        )

        self.assert_one_paid_lead(run(events), ["a1", "a2"])

    def test_f12_cookies_joined_through_crm_lead_id_make_one_lead(self) -> None:
        events = self.two_cookies({"email": "jo@example.org"}, {"lead_id": "L-12"})
        crm = identify(
            "crm", "2026-11-13T00:00:00Z", lead_id="L-12", email="jo@example.org"
        )

        engine = run([*events, crm])

        self.assert_one_paid_lead(engine, ["a1", "a2"])
        assert list(engine.leads()) == ["lead:L-12"]


class TestF18DuplicateDeals:
    """F18: a deal delivered again, or re-emitted with a new id, counts once."""

    @staticmethod
    def delivery(eid: str, amount: str, **ids: Any) -> dict[str, Any]:
        return {
            "type": "deal",
            "event_id": eid,
            "deal_id": "D-1801",
            "status": "won",
            "amount": amount,
            "currency": "USD",
            **ids,
        }

    @staticmethod
    def revenue(engine: Engine) -> tuple[int, int]:
        cells = engine.totals()
        return (
            metric_total(cells, "last_touch", "revenue:USD"),
            metric_total(cells, "last_touch", "won"),
        )

    def test_f18_retry_and_reemission_count_once_update_replaces(self) -> None:
        engine = Engine(Settings())
        deliveries = [
            (self.delivery("evt_9f1", "4800.00"), "2026-11-20T10:00:00Z"),
            (self.delivery("evt_9f1", "4800.00"), "2026-11-20T10:00:31Z"),
            (self.delivery("evt_a07", "4800.00"), "2026-11-20T10:05:00Z"),
        ]
        for event, received in deliveries:
            engine.run([wire(event, received)])
        after_three = self.revenue(engine)
        engine.run([wire(self.delivery("evt_b33", "5100.00"), "2026-11-20T11:00:00Z")])

        assert after_three == (480000, 1_000_000)
        assert self.revenue(engine) == (510000, 1_000_000)
        assert (
            figures(engine, "first_touch")[("(unattributed)", "revenue:USD")] == 510000
        )

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_f18_many_copies_in_any_order_count_once(self, seed: int) -> None:
        journey = [
            tagged("t", "v", "2026-11-19T10:00:00Z", "google", "cpc"),
            identify("i", "2026-11-19T10:01:00Z", visitor_id="v", lead_id="L"),
        ]
        one = self.delivery(
            "evt_9f1", "4800.00", lead_id="L", occurred_at="2026-11-20T10:00:00Z"
        )
        events = [wire(e) for e in journey] + [wire(one)] * 5

        engine = Engine(Settings(), shuffle=random.Random(seed)).run(
            shuffled(events, seed)
        )

        assert self.revenue(engine) == (480000, 1_000_000)
        assert channel_revenue(engine, "linear") == {"Paid Search": 480000}

    def test_f18_copies_naming_different_ids_of_one_lead_count_once(self) -> None:
        at = "2026-11-20T10:00:00Z"
        engine = run(
            [
                identify(
                    "i",
                    "2026-11-19T10:00:00Z",
                    visitor_id="v",
                    lead_id="L",
                    email="kim@example.org",
                ),
                self.delivery("evt_1", "4800.00", lead_id="L", occurred_at=at),
                self.delivery(
                    "evt_2", "4800.00", email="KIM@example.org", occurred_at=at
                ),
                self.delivery("evt_3", "4800.00", occurred_at=at),
            ]
        )

        assert self.revenue(engine) == (480000, 1_000_000)
        assert engine.lead_of("deal:D-1801") == "lead:L"

    def test_f18_stale_retry_after_the_update_does_not_revert_it(self) -> None:
        first = self.delivery("evt_9f1", "4800.00", occurred_at="2026-11-20T10:00:00Z")
        update = self.delivery("evt_b33", "5100.00", occurred_at="2026-11-20T11:00:00Z")

        engine = run([first, update, first])

        assert self.revenue(engine) == (510000, 1_000_000)

    def test_f18_copy_sent_to_a_merged_away_lead_counts_once(self) -> None:
        at = "2026-11-20T10:00:00Z"
        engine = run(
            [
                self.delivery(
                    "evt_1", "4800.00", email="kim@example.org", occurred_at=at
                ),
                identify(
                    "i", "2026-11-21T10:00:00Z", lead_id="L", email="kim@example.org"
                ),
                self.delivery(
                    "evt_2", "4800.00", email="kim@example.org", occurred_at=at
                ),
            ]
        )

        assert engine.lead_of(email_node("kim@example.org")) == "lead:L"
        assert self.revenue(engine) == (480000, 1_000_000)


class TestF20LookbackAndCausality:
    """F20: only touches before the sale and inside the lookback window earn."""

    SETTINGS = Settings(deal_lookback_days=90)

    @staticmethod
    def lead(
        name: str,
        touches: list[tuple[str, str, str]],
        created: str,
        closed: str,
        amount: str,
    ) -> list[dict[str, Any]]:
        events = [
            tagged(f"{name}-t{n}", f"v-{name}", at, source, medium)
            for n, (at, source, medium) in enumerate(touches)
        ]
        events.append(
            identify(f"{name}-i", created, visitor_id=f"v-{name}", lead_id=name)
        )
        events.append(
            deal(f"{name}-d", f"D-{name}", closed, amount, lead_id=name, currency="EUR")
        )
        return events

    def example(self) -> list[dict[str, Any]]:
        return [
            *self.lead(
                "L-77",
                [
                    ("2024-05-20T10:00:00Z", "google", "organic"),
                    ("2026-08-06T10:00:00Z", "google", "cpc"),
                ],
                "2024-05-26T10:00:00Z",
                "2024-06-20T10:00:00Z",
                "12000.00",
            ),
            *self.lead(
                "L-78",
                [
                    ("2026-03-15T10:00:00Z", "facebook", "paid_social"),
                    ("2026-08-06T10:00:00Z", "google", "organic"),
                ],
                "2026-03-16T10:00:00Z",
                "2026-09-01T10:00:00Z",
                "9000.00",
            ),
            *self.lead(
                "L-79",
                [("2026-01-10T10:00:00Z", "bing", "cpc")],
                "2026-01-11T10:00:00Z",
                "2026-09-01T10:00:00Z",
                "4000.00",
            ),
        ]

    def test_f20_late_touch_old_touch_and_empty_window_follow_the_rules(self) -> None:
        engine = run(self.example(), self.SETTINGS)

        for model in MODELS:
            sale_2024 = figures(engine, model, "source", "2024-06-20")
            sales_2026 = figures(engine, model, "source", "2026-09-01")
            assert sale_2024[("google / organic", "revenue:EUR")] == 1200000, model
            assert sales_2026[("google / organic", "revenue:EUR")] == 900000, model
            assert sales_2026[("(unattributed)", "revenue:EUR")] == 400000, model
            revenue = {
                v
                for (v, m), a in figures(engine, model, "source").items()
                if m == "revenue:EUR"
            }
            assert revenue == {"google / organic", "(unattributed)"}, model

    @pytest.mark.parametrize(
        ("touched", "credited"),
        [
            ("2026-06-03T10:00:00Z", "bing / cpc"),  # exactly 90 days before
            ("2026-06-03T09:59:59Z", "(unattributed)"),
            ("2026-09-01T10:00:00Z", "bing / cpc"),  # at the close
            ("2026-09-01T10:00:01Z", "(unattributed)"),
        ],
    )
    def test_f20_window_edges_are_inclusive(self, touched: str, credited: str) -> None:
        events = self.lead(
            "L-1",
            [(touched, "bing", "cpc")],
            "2026-01-01T00:00:00Z",
            "2026-09-01T10:00:00Z",
            "10.00",
        )

        engine = run(events, self.SETTINGS)

        assert figures(engine, "last_touch", "source")[(credited, "won")] == 1_000_000

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_f20_touch_after_close_gets_nothing_in_any_order(self, seed: int) -> None:
        events = self.example()

        engine = Engine(self.SETTINGS, shuffle=random.Random(seed)).run(
            wire(e) for e in shuffled(events, seed)
        )

        assert engine.totals() == run(events, self.SETTINGS).totals()
        cpc = figures(engine, "first_touch", "source")
        assert ("google / cpc", "revenue:EUR") not in cpc

    def test_f20_unlimited_lookback_credits_the_old_touch(self) -> None:
        engine = run(self.example(), Settings(deal_lookback_days=0))

        sales = figures(engine, "first_touch", "source", "2026-09-01")
        assert sales[("bing / cpc", "revenue:EUR")] == 400000
        assert sales[("facebook / paid_social", "revenue:EUR")] == 900000

    def test_f20_lead_lookback_applies_to_lead_creation(self) -> None:
        events = self.lead(
            "L-5",
            [("2026-01-10T10:00:00Z", "bing", "cpc")],
            "2026-05-01T10:00:00Z",
            "2026-05-02T10:00:00Z",
            "1.00",
        )

        engine = run(events, Settings(lead_lookback_days=90))

        sources = figures(engine, "first_touch", "source")
        assert sources[("(unattributed)", "leads")] == 1_000_000


class TestF23BotsInJourneys:
    """F23 (stream half): bot-flagged visitors make no touch, lead or link."""

    PAGE = (
        "https://www.example.com/?utm_source=google&utm_medium=cpc&utm_campaign=brand"
    )

    def hits(self) -> list[dict[str, Any]]:
        return [
            touch(
                "b1-px", "b1", "2026-11-01T10:00:00Z", self.PAGE, user_agent=HEADLESS
            ),
            touch(
                "b2-px", "b2", "2026-11-01T10:00:00Z", self.PAGE, user_agent=PRERENDER
            ),
            touch("h1-px", "h1", "2026-11-01T10:00:00Z", self.PAGE, user_agent=CHROME),
        ]

    def test_f23_headless_hits_are_not_counted_chrome_is(self) -> None:
        engine = run(self.hits())

        assert figures(engine, "touches") == {("Paid Search", "touches"): 1}
        assert engine.nodes["visitor:b1"]["bot"] is True
        assert engine.nodes["visitor:b2"]["journey"] is None
        assert list(engine.nodes["visitor:h1"]["journey"]["touches"]) == ["h1-px"]

    def test_f23_form_posted_by_headless_browser_makes_no_lead(self) -> None:
        engine = run(
            [
                *self.hits(),
                identify(
                    "b1-form",
                    "2026-11-01T10:01:00Z",
                    visitor_id="b1",
                    email="bot@example.org",
                    user_agent=HEADLESS,
                ),
            ]
        )

        assert engine.leads() == {}
        assert email_node("bot@example.org") not in engine.nodes
        assert metric_total(engine.totals(), "first_touch", "leads") == 0

    def test_f23_server_side_form_of_flagged_visitor_makes_no_lead(self) -> None:
        engine = run(
            [
                *self.hits(),
                identify(
                    "b2-form",
                    "2026-11-01T10:01:00Z",
                    visitor_id="b2",
                    email="b2@example.org",
                    form="demo",
                ),
            ]
        )

        assert engine.leads() == {}
        for model in MODELS:
            assert metric_total(engine.totals(), model, "leads") == 0, model

    def test_f23_bot_with_a_real_email_does_not_join_its_owner(self) -> None:
        engine = run(
            [
                *self.hits(),
                identify(
                    "h1-form",
                    "2026-11-01T10:02:00Z",
                    visitor_id="h1",
                    email="real@example.org",
                ),
                identify(
                    "b1-form",
                    "2026-11-01T10:03:00Z",
                    visitor_id="b1",
                    email="real@example.org",
                ),
            ]
        )

        [lead] = engine.leads().values()
        assert "visitor:b1" not in lead["members"]
        assert list(lead["journey"]["touches"]) == ["h1-px"]
        assert engine.lead_of("visitor:b1") == "visitor:b1"

    def test_f23_number_shown_to_a_bot_does_not_take_the_call(self) -> None:
        number = {"tracking_number": "+14155550100"}
        engine = run(
            [
                touch(
                    "h1-px",
                    "h1",
                    "2026-11-01T10:00:00Z",
                    self.PAGE,
                    user_agent=CHROME,
                    **number,
                ),
                touch(
                    "b1-px",
                    "b1",
                    "2026-11-01T10:05:00Z",
                    self.PAGE,
                    user_agent=HEADLESS,
                    **number,
                ),
                call(
                    "c", "c-1", "2026-11-01T10:10:00Z", caller="+14155550111", **number
                ),
            ]
        )

        assert engine.lead_of("visitor:h1") == engine.lead_of("call:c-1")
        assert engine.lead_of("visitor:b1") == "visitor:b1"


class TestF25EmailCase:
    """F25: e-mail identity ignores case and surrounding whitespace, nothing else."""

    SAM = "sam.lee@example.com"

    def example(self) -> list[dict[str, Any]]:
        return [
            identify(
                "f1",
                "2026-11-01T10:00:00Z",
                visitor_id="v2501",
                form="guide",
                email="sam.lee@example.com",
            ),
            identify(
                "f2",
                "2026-11-02T10:00:00Z",
                visitor_id="v2502",
                form="demo",
                email="SAM.LEE@EXAMPLE.COM",
            ),
            call(
                "c",
                "c-77",
                "2026-11-03T10:00:00Z",
                caller="+14155550111",
                email="  Sam.Lee@Example.com\t",
            ),
            identify(
                "f3",
                "2026-11-04T10:00:00Z",
                visitor_id="v2503",
                form="demo",
                email="sam.lee+promo@example.com",
            ),
            deal(
                "d",
                "D-2501",
                "2026-11-05T10:00:00Z",
                "700.00",
                email="sam.lee@EXAMPLE.com",
            ),
        ]

    def assert_example(self, engine: Engine) -> None:
        sam = email_node(self.SAM)
        joined = ["visitor:v2501", "visitor:v2502", "call:c-77", "deal:D-2501"]
        assert {engine.lead_of(n) for n in joined} == {sam}
        assert engine.lead_of("visitor:v2503") == email_node(
            "sam.lee+promo@example.com"
        )
        assert sorted(engine.leads()) == sorted(
            [sam, email_node("sam.lee+promo@example.com")]
        )
        assert metric_total(engine.totals(), "first_touch", "leads") == 2_000_000
        assert (
            engine.leads()[sam]["journey"]["deals"]["D-2501"]["amount_minor"] == 70000
        )

    def test_f25_case_and_whitespace_variants_are_one_lead(self) -> None:
        self.assert_example(run(self.example()))

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_f25_any_arrival_order_gives_the_same_two_leads(self, seed: int) -> None:
        engine = Engine(Settings(), shuffle=random.Random(seed)).run(
            wire(e) for e in shuffled(self.example(), seed)
        )

        self.assert_example(engine)

    @pytest.mark.parametrize(
        "written",
        [
            "SAM.LEE@EXAMPLE.COM",
            "\tsam.lee@example.com ",
            "Sam.Lee@Example.Com\n",
            "\u00a0sam.lee@example.com\u00a0",
        ],
    )
    def test_f25_deal_with_email_written_any_way_joins_the_lead(
        self, written: str
    ) -> None:
        engine = run(
            [
                tagged("t", "v1", "2026-11-01T09:00:00Z", "news", "email"),
                identify("f", "2026-11-01T10:00:00Z", visitor_id="v1", email=self.SAM),
                deal("d", "D-1", "2026-11-05T10:00:00Z", "700.00", email=written),
            ]
        )

        assert list(engine.leads()) == [email_node(self.SAM)]
        assert channel_revenue(engine, "first_touch") == {"Email": 70000}

    @pytest.mark.parametrize(
        "other",
        [
            "sam.lee+promo@example.com",
            "samlee@example.com",
            "sam.lee@example.co",
            "sam_lee@example.com",
        ],
    )
    def test_f25_plus_tags_dots_and_domains_stay_apart(self, other: str) -> None:
        engine = run(
            [
                identify("f1", "2026-11-01T10:00:00Z", visitor_id="v1", email=self.SAM),
                identify("f2", "2026-11-02T10:00:00Z", visitor_id="v2", email=other),
            ]
        )

        assert len(engine.leads()) == 2


class TestF29CreditFixedPerConversion:
    """F29: each sale keeps its own journey's credit; later visits don't move it."""

    def example(self) -> list[dict[str, Any]]:
        shop = "https://shop.example.com/"
        return [
            touch(
                "t1",
                "v2901",
                "2026-11-03T10:00:00Z",
                f"{shop}?utm_source=reddit&utm_medium=social&utm_campaign=launch",
            ),
            identify("i", "2026-11-03T10:01:00Z", visitor_id="v2901", lead_id="L-29"),
            deal("d1", "D-2901", "2026-11-03T10:05:00Z", "80.00", lead_id="L-29"),
            touch(
                "t2",
                "v2901",
                "2026-11-10T18:00:00Z",
                f"{shop}?utm_source=instagram&utm_medium=social&utm_campaign=story",
            ),
            deal("d2", "D-2902", "2026-11-10T18:04:00Z", "80.00", lead_id="L-29"),
        ]

    @staticmethod
    def campaigns(engine: Engine) -> dict[str, int]:
        return {
            value: amount
            for (value, metric), amount in figures(
                engine, "last_touch", "campaign"
            ).items()
            if metric == "revenue:USD"
        }

    def test_f29_each_sale_keeps_its_own_campaign(self) -> None:
        engine = run(self.example())

        assert self.campaigns(engine) == {
            "reddit / social / launch": 8000,
            "instagram / social / story": 8000,
        }

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_f29_recomputing_in_any_order_gives_the_same_split(self, seed: int) -> None:
        engine = Engine(Settings(), shuffle=random.Random(seed)).run(
            wire(e) for e in shuffled(self.example(), seed)
        )

        assert engine.totals() == run(self.example()).totals()

    def test_f29_late_touch_before_the_first_close_moves_only_that_sale(self) -> None:
        late = touch(
            "t-late",
            "v2901",
            "2026-11-03T10:03:00Z",
            "https://shop.example.com/?utm_source=fb&utm_medium=social&utm_campaign=x",
        )
        engine = Engine(Settings()).run(
            [*(wire(e) for e in self.example()), wire(late, "2026-11-15T00:00:00Z")]
        )

        assert self.campaigns(engine) == {
            "fb / social / x": 8000,
            "instagram / social / story": 8000,
        }
        assert metric_total(engine.totals(), "last_touch", "won") == 2_000_000

    def test_f29_touch_after_the_last_sale_changes_nothing(self) -> None:
        after = touch(
            "t3",
            "v2901",
            "2026-11-20T10:00:00Z",
            "https://shop.example.com/?utm_source=tiktok&utm_medium=social",
        )

        engine = run([*self.example(), after])

        assert self.campaigns(engine) == self.campaigns(run(self.example()))

    def test_f29_three_sales_each_get_their_own_last_touch(self) -> None:
        third = [
            tagged("t3", "v2901", "2026-11-15T09:00:00Z", "news", "email", "dec"),
            deal("d3", "D-2903", "2026-11-15T09:30:00Z", "80.00", lead_id="L-29"),
        ]

        engine = run([*self.example(), *third])

        assert self.campaigns(engine) == {
            "reddit / social / launch": 8000,
            "instagram / social / story": 8000,
            "news / email / dec": 8000,
        }
