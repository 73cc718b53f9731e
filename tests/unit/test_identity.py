"""The identity graph: identifiers, routing, the node step, and the engine."""

from __future__ import annotations

import random
from typing import Any

import pytest

from streams.config import Settings
from streams.engine import Engine
from streams.identity import identifiers, order_key, route
from streams.normalize import keyed_hash
from streams.stitch import new_root, step
from tests.events import KEY, call, deal, figures, identify, run, tagged, touch, wire

SETTINGS = Settings()
GOOGLE = "https://www.example.com/?utm_source=google&utm_medium=cpc"


def journey_with(touch_ids: list[str], created_ms: int | None = None) -> dict[str, Any]:
    touches = {
        tid: {
            "kind": "touch",
            "id": tid,
            "t": 1,
            "channel": "Email",
            "source": "news",
            "medium": "email",
            "campaign": "",
            "ruleset": "",
            "r": 1,
        }
        for tid in touch_ids
    }
    return {"touches": touches, "created": created_ms, "deals": {}}


def visitor_email_then_crm_id() -> list[dict[str, Any]]:
    """A form joins a visitor to an e-mail; the CRM later names the e-mail's lead."""
    return [
        identify("i1", "2026-11-01T10:00:00Z", visitor_id="v1", email="a@b.example"),
        identify("i2", "2026-11-02T10:00:00Z", email="a@b.example", lead_id="L"),
    ]


class TestIdentifiers:
    def test_identifiers_come_in_canonical_order(self) -> None:
        event = wire(
            identify(
                "i",
                "2026-11-01T00:00:00Z",
                visitor_id="v",
                lead_id="L",
                email="a@b.example",
                phone="+14155550111",
                contact_id="C",
                promo_code="P",
            )
        )

        kinds = [node.split(":", 1)[0] for node in identifiers(event)]

        assert kinds == ["lead", "contact", "email", "phone", "promo", "visitor"]

    def test_identifiers_caller_and_phone_are_one_node(self) -> None:
        form = wire(
            identify(
                "i", "2026-11-01T00:00:00Z", visitor_id="v", phone="(415) 555-0111"
            )
        )
        rang = wire(call("c", "c-1", "2026-11-01T00:00:00Z", caller="+14155550111"))

        phones = {
            n for n in identifiers(form) + identifiers(rang) if n.startswith("phone:")
        }

        assert len(phones) == 1

    @pytest.mark.parametrize("code", ["SPRING-42", " spring-42 ", "Spring-42"])
    def test_identifiers_promo_code_ignores_case_and_spaces(self, code: str) -> None:
        event = wire(identify("i", "2026-11-01T00:00:00Z", promo_code=code))

        assert identifiers(event) == ["promo:spring-42"]

    def test_identifiers_deal_names_itself_and_its_lead(self) -> None:
        event = wire(deal("d", "D-1", "2026-11-01T00:00:00Z", "1", lead_id="L"))

        assert identifiers(event) == ["lead:L", "deal:D-1"]

    def test_order_key_puts_crm_ids_before_visitors(self) -> None:
        nodes = ["visitor:a", "deal:x", "email:f", "lead:z", "phone:0", "call:c"]

        assert sorted(nodes, key=order_key) == [
            "lead:z",
            "email:f",
            "phone:0",
            "deal:x",
            "call:c",
            "visitor:a",
        ]


class TestRoute:
    def test_route_touch_of_visitor_goes_to_its_node(self) -> None:
        routed = route(wire(touch("t", "v", "2026-11-01T00:00:00Z", GOOGLE)))

        [(key, item)] = routed.sends
        assert key == "visitor:v"
        assert item["kind"] == "touch" and item["channel"] == "Paid Search"
        assert routed.touch == item

    def test_route_identify_links_at_its_visitor(self) -> None:
        routed = route(
            wire(identify("i", "2026-11-01T00:00:00Z", visitor_id="v", lead_id="L"))
        )

        [(key, message)] = routed.sends
        assert key == "visitor:v"
        assert message["kind"] == "link"
        assert message["ids"] == ["lead:L", "visitor:v"]
        assert message["item"]["kind"] == "identify"

    def test_route_bot_event_only_flags_its_visitor(self) -> None:
        event = wire(touch("t", "b1", "2026-11-01T00:00:00Z", GOOGLE, is_bot=True))

        routed = route(event)

        assert routed.touch is None
        assert routed.sends == [("visitor:b1", {"kind": "bot", "id": "t"})]

    def test_route_shown_number_is_sent_even_for_an_own_site_page(self) -> None:
        event = wire(
            touch(
                "t",
                "v",
                "2026-11-01T00:00:00Z",
                "https://www.example.com/b",
                "https://www.example.com/a",
                tracking_number="+14155550100",
            )
        )

        routed = route(event)

        assert routed.touch is None
        assert [key for key, _ in routed.sends] == ["number:+14155550100"]

    def test_route_call_without_visitor_dials_its_number(self) -> None:
        event = wire(
            call(
                "c",
                "c-1",
                "2026-11-01T00:00:00Z",
                caller="+14155550111",
                tracking_number="+14155550100",
            )
        )

        routed = route(event)

        keys = [key for key, _ in routed.sends]
        assert keys[0] == "number:+14155550100"
        assert routed.sends[0][1]["target"].startswith("phone:")


class TestStep:
    def test_step_union_with_smaller_node_merges_and_empties_lead(self) -> None:
        root = new_root("email:e")
        root["journey"] = journey_with(["t1"], created_ms=5)
        union = {"kind": "union", "other": "lead:L", "t": 9, "event": "i", "ids": []}

        outcome = step("email:e", root, union, SETTINGS)

        assert outcome.state == {"forward": "lead:L"}
        [(target, absorb)] = outcome.sends
        assert (target, absorb["kind"], absorb["from"]) == (
            "lead:L",
            "absorb",
            "email:e",
        )
        assert outcome.records and all(r == {} for r in outcome.records.values())
        assert all(
            rid.startswith("lead:email:e|") or rid == "paths|email:e"
            for rid in outcome.records
        )
        assert outcome.markov_inputs == {"email:e": []}
        assert outcome.merges[0] | {"ids": []} == {
            "loser": "email:e",
            "winner": "lead:L",
            "t": 9,
            "event": "i",
            "ids": [],
        }

    def test_step_union_with_larger_node_asks_it_instead(self) -> None:
        union = {"kind": "union", "other": "visitor:v", "t": 1, "event": "e", "ids": []}

        outcome = step("lead:L", None, union, SETTINGS)

        assert "journey" in outcome.state
        assert outcome.sends == [("visitor:v", {**union, "other": "lead:L"})]

    def test_step_forwarded_node_passes_everything_on(self) -> None:
        item = {"kind": "touch", "id": "t"}

        outcome = step("visitor:v", {"forward": "lead:L"}, item, SETTINGS)

        assert outcome.sends == [("lead:L", item)]
        assert outcome.records == {}

    def test_step_absorb_joins_journeys_members_and_log(self) -> None:
        loser = new_root("email:e")
        loser["journey"] = journey_with(["t1"], created_ms=5)
        winner = new_root("lead:L")
        winner["journey"] = journey_with(["t2"], created_ms=7)
        entry = {
            "loser": "email:e",
            "winner": "lead:L",
            "t": 9,
            "event": "i",
            "ids": [],
        }
        absorb = {"kind": "absorb", "from": "email:e", "state": loser, "merge": entry}

        state = step("lead:L", winner, absorb, SETTINGS).state
        again = step("lead:L", state, absorb, SETTINGS).state

        assert sorted(again["journey"]["touches"]) == ["t1", "t2"]
        assert again["journey"]["created"] == 5
        assert again["members"] == ["lead:L", "email:e"]
        assert again["merges"] == [entry]

    def test_step_bot_visitor_refuses_links_and_unions(self) -> None:
        flagged = step("visitor:b", None, {"kind": "bot", "id": "x"}, SETTINGS).state
        link = {
            "kind": "link",
            "ids": ["lead:L", "visitor:b"],
            "event": "i",
            "t": 1,
            "item": {"kind": "identify", "id": "i", "t": 1},
        }
        union = {"kind": "union", "other": "lead:L", "t": 1, "event": "i", "ids": []}

        assert step("visitor:b", flagged, link, SETTINGS).sends == []
        assert step("visitor:b", flagged, union, SETTINGS).state["bot"] is True
        assert step("visitor:b", flagged, union, SETTINGS).sends == []


class TestRepoint:
    def test_repoint_after_absorb_points_members_at_the_new_root(self) -> None:
        engine = run(visitor_email_then_crm_id())

        assert engine.nodes["visitor:v1"] == {"forward": "lead:L"}

    def test_repoint_never_moves_a_pointer_away_from_the_root(self) -> None:
        state = {"forward": "lead:A"}

        later = step("visitor:v", state, {"kind": "repoint", "to": "email:x"}, SETTINGS)
        closer = step("visitor:v", state, {"kind": "repoint", "to": "lead:0"}, SETTINGS)

        assert later.state == {"forward": "lead:A"}
        assert closer.state == {"forward": "lead:0"}


class TestTrackingNumbers:
    NUMBER = "+14155550100"

    def shown(self, eid: str, vid: str, at: str) -> dict[str, Any]:
        return touch(eid, vid, at, GOOGLE, tracking_number=self.NUMBER)

    def rang(self, at: str, caller: str = "+14155550111") -> dict[str, Any]:
        return call("c", "c-1", at, caller=caller, tracking_number=self.NUMBER)

    def test_call_links_visitor_last_shown_the_number(self) -> None:
        engine = run(
            [
                self.shown("s1", "v1", "2026-11-01T10:00:00Z"),
                self.shown("s2", "v2", "2026-11-01T10:10:00Z"),
                self.rang("2026-11-01T10:20:00Z"),
            ]
        )

        assert engine.lead_of("visitor:v2") == engine.lead_of("call:c-1")
        assert engine.lead_of("visitor:v1") == "visitor:v1"
        assert figures(engine, "first_touch")[("Paid Search", "leads")] == 1_000_000

    def test_call_after_hold_time_links_nobody(self) -> None:
        engine = run(
            [
                self.shown("s1", "v1", "2026-11-01T10:00:00Z"),
                self.rang("2026-11-01T10:31:00Z"),
            ]
        )

        assert engine.lead_of("visitor:v1") == "visitor:v1"
        assert figures(engine, "first_touch")[("(unattributed)", "leads")] == 1_000_000

    def test_call_before_its_showing_arrives_waits_for_it(self) -> None:
        engine = run(
            [
                self.rang("2026-11-01T10:20:00Z"),
                self.shown("s1", "v1", "2026-11-01T10:05:00Z"),
            ]
        )

        assert engine.lead_of("visitor:v1") == engine.lead_of("call:c-1")

    def test_call_to_a_never_shown_number_is_forgotten_after_retention(self) -> None:
        calls = [
            wire(
                call(
                    f"c{month}-{day}",
                    f"c-{month}-{day}",
                    f"2026-{month:02d}-{day:02d}T10:00:00Z",
                    tracking_number=self.NUMBER,
                )
            )
            for month in (10, 11)
            for day in (1, 15)
        ]

        engine = Engine(SETTINGS).run(calls)

        kept = engine.nodes[f"number:{self.NUMBER}"]["dials"]
        assert sorted(kept) == ["c11-1", "c11-15"]

    def test_call_with_withheld_caller_still_joins_the_visitor(self) -> None:
        engine = run(
            [
                self.shown("s1", "v1", "2026-11-01T10:00:00Z"),
                self.rang("2026-11-01T10:01:00Z", caller="anonymous"),
            ]
        )

        assert engine.lead_of("visitor:v1") == "call:c-1"


class TestLinks:
    def test_links_contact_id_and_promo_code_join_one_person(self) -> None:
        engine = run(
            [
                tagged("t1", "v1", "2026-11-01T10:00:00Z", "podcast", "audio"),
                identify(
                    "i1", "2026-11-01T10:01:00Z", visitor_id="v1", promo_code="JO-7"
                ),
                identify(
                    "i2", "2026-11-02T10:00:00Z", contact_id="C-1", promo_code="jo-7"
                ),
                deal("d1", "D-1", "2026-11-03T10:00:00Z", "50.00", contact_id="C-1"),
            ]
        )

        assert len(engine.leads()) == 1
        assert figures(engine, "first_touch", "source")[("podcast / audio", "won")] == (
            1_000_000
        )

    def test_links_deal_with_email_meets_lead_id_identify(self) -> None:
        engine = run(
            [
                tagged("t1", "v1", "2026-11-01T10:00:00Z", "news", "email"),
                identify(
                    "i1",
                    "2026-11-01T10:01:00Z",
                    visitor_id="v1",
                    lead_id="L",
                    email="a@b.example",
                ),
                deal("d1", "D-1", "2026-11-03T10:00:00Z", "50.00", email="A@B.example"),
            ]
        )

        assert list(engine.leads()) == ["lead:L"]
        assert engine.lead_of("deal:D-1") == "lead:L"
        assert figures(engine, "last_touch")[("Email", "revenue:USD")] == 5000

    def test_links_merge_log_names_loser_winner_and_event(self) -> None:
        engine = run(visitor_email_then_crm_id())

        email = f"email:{keyed_hash('a@b.example', KEY)}"
        log = engine.leads()["lead:L"]["merges"]
        assert [(e["loser"], e["winner"], e["event"]) for e in log] == [
            ("visitor:v1", email, "i1"),
            (email, "lead:L", "i2"),
        ]
        assert log[1]["ids"] == ["lead:L", email]
        assert engine.lead_of("visitor:v1") == "lead:L"
        assert sorted(engine.merges, key=lambda e: e["t"]) == log


def people(n: int) -> list[dict[str, Any]]:
    """Persons on two devices each, linked by e-mail, CRM id, phone or promo
    code, with deals that name only one of their identifiers."""
    events: list[dict[str, Any]] = []
    for p in range(n):
        day = f"2026-11-{p % 20 + 1:02d}"
        email = f"p{p}@example.org"
        events += [
            tagged(f"{p}-t1", f"{p}-a", f"{day}T08:00:00Z", "google", "cpc", f"c{p}"),
            identify(f"{p}-i1", f"{day}T08:05:00Z", visitor_id=f"{p}-a", email=email),
            tagged(f"{p}-t2", f"{p}-b", f"{day}T12:00:00Z", "news", "email"),
            identify(
                f"{p}-i2",
                f"{day}T12:05:00Z",
                visitor_id=f"{p}-b",
                phone=f"+1415555{p:04d}",
                promo_code=f"promo-{p}",
            ),
            call(
                f"{p}-c",
                f"c-{p}",
                f"{day}T13:00:00Z",
                caller=f"(415) 555-{p:04d}",
                email=email.upper(),
            ),
            deal(
                f"{p}-d",
                f"D-{p}",
                f"{day}T18:00:00Z",
                f"{100 + p}.00",
                lead_id=f"L-{p}",
                promo_code=f"PROMO-{p}",
            ),
        ]
    return events


class TestEngineOrder:
    @pytest.mark.parametrize("seed", range(8))
    def test_engine_any_event_and_message_order_gives_same_figures(
        self, seed: int
    ) -> None:
        events = [wire(e) for e in people(6)]
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)

        reference = Engine(SETTINGS).run(events)
        other = Engine(SETTINGS, shuffle=random.Random(seed)).run(shuffled)

        assert other.totals() == reference.totals()
        assert sorted(other.leads()) == sorted(reference.leads())
        assert sorted(reference.leads()) == sorted(f"lead:L-{p}" for p in range(6))

    def test_engine_each_person_counts_one_lead_and_one_deal(self) -> None:
        engine = run(people(6))

        linear = figures(engine, "linear")
        assert sum(a for (v, m), a in linear.items() if m == "leads") == 6_000_000
        assert sum(a for (v, m), a in linear.items() if m == "won") == 6_000_000
        assert linear[("Email", "won")] == linear[("Paid Search", "won")] == 3_000_000
