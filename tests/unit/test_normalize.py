"""The wire form of events: phone numbers in E.164, hashes, the bot flag."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.errors import InvalidEvent
from schemas.validate import check_event
from streams.errors import BadPhone
from streams.normalize import keyed_hash, normalise, normalise_phone

KEY = b"k"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36"
)
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def wire(event: dict[str, Any], region: str = "US") -> dict[str, Any]:
    return normalise(check_event(event), 0, KEY, region)


class TestPhones:
    @pytest.mark.parametrize(
        "written",
        [
            "+14155550111",
            "(415) 555-0111",
            "415.555.0111",
            "+1 415 555 0111",
            "1-415-555-0111",
            " 415 555 0111\t",
        ],
    )
    def test_phone_ways_of_writing_one_us_number_give_one_e164(
        self, written: str
    ) -> None:
        assert normalise_phone(written, "US") == "+14155550111"

    @pytest.mark.parametrize(
        ("written", "region", "expected"),
        [
            ("(11) 91234-5678", "BR", "+5511912345678"),
            ("020 7946 0958", "GB", "+442079460958"),
            ("+55 11 91234-5678", "US", "+5511912345678"),
        ],
    )
    def test_phone_national_number_is_read_in_its_region(
        self, written: str, region: str, expected: str
    ) -> None:
        assert normalise_phone(written, region) == expected

    @pytest.mark.parametrize("written", ["123", "call me", "+1 555"])
    def test_phone_unreadable_number_raises_naming_it(self, written: str) -> None:
        with pytest.raises(BadPhone, match="region 'US'"):
            normalise_phone(written, "US")

    def test_phone_hash_equal_for_equal_numbers_written_apart(self) -> None:
        first = wire({"type": "identify", "visitor_id": "v", "phone": "(415) 555-0111"})
        second = wire({"type": "call", "call_id": "c", "caller": "+1 415-555-0111"})

        assert first["phone_hash"] == keyed_hash("+14155550111", KEY)
        assert second["caller_hash"] == first["phone_hash"]
        assert "phone" not in first and "caller" not in second

    def test_phone_bad_number_is_an_invalid_event_on_its_field(self) -> None:
        with pytest.raises(InvalidEvent) as caught:
            wire({"type": "identify", "visitor_id": "v", "phone": "12"})

        assert [p.field for p in caught.value.problems] == ["phone"]

    @pytest.mark.parametrize("caller", ["anonymous", "RESTRICTED", "unknown"])
    def test_phone_withheld_caller_is_a_call_without_number(self, caller: str) -> None:
        call = wire({"type": "call", "call_id": "c", "caller": caller})

        assert "caller_hash" not in call and "caller" not in call

    def test_phone_tracking_number_is_e164_and_not_hashed(self) -> None:
        call = wire({"type": "call", "call_id": "c", "tracking_number": "415 555 0100"})
        touch = wire(
            {"type": "touch", "visitor_id": "v", "tracking_number": "+1 (415) 555-0100"}
        )

        assert call["tracking_number"] == touch["tracking_number"] == "+14155550100"


class TestBotFlag:
    @pytest.mark.parametrize("agent", [HEADLESS, f"{HEADLESS} Prerender", "curl/8.5.0"])
    def test_bot_flag_set_from_user_agent_of_browser_kinds(self, agent: str) -> None:
        touch = wire({"type": "touch", "visitor_id": "b1", "user_agent": agent})
        identify = wire(
            {
                "type": "identify",
                "visitor_id": "b1",
                "email": "a@b.example",
                "user_agent": agent,
            }
        )

        assert touch["is_bot"] is True
        assert identify["is_bot"] is True

    def test_bot_flag_false_for_a_browser_and_without_user_agent(self) -> None:
        human = wire({"type": "touch", "visitor_id": "h1", "user_agent": CHROME})
        server = wire({"type": "identify", "visitor_id": "h1", "lead_id": "L"})

        assert human["is_bot"] is False
        assert server["is_bot"] is False

    def test_bot_flag_sent_by_client_is_kept_even_for_a_browser(self) -> None:
        touch = wire(
            {"type": "touch", "visitor_id": "h1", "user_agent": CHROME, "is_bot": True}
        )

        assert touch["is_bot"] is True


class TestSpendAndEmailChecks:
    def spend(self, **fields: Any) -> dict[str, Any]:
        return {
            "type": "spend",
            "date": "2026-11-30",
            "source": "google",
            "amount": "10.00",
            "currency": "USD",
            **fields,
        }

    @pytest.mark.parametrize("day", ["2026-13-45", "2026-02-30", "0000-01-01"])
    def test_spend_impossible_date_rejected_naming_date(self, day: str) -> None:
        with pytest.raises(InvalidEvent) as caught:
            wire(self.spend(date=day))

        assert [p.field for p in caught.value.problems] == ["date"]

    def test_spend_negative_amount_rejected(self) -> None:
        with pytest.raises(InvalidEvent) as caught:
            wire(self.spend(amount="-50"))

        assert caught.value.problems[0].field == "amount"
        assert "negative spend" in caught.value.problems[0].reason

    def test_spend_zero_amount_accepted(self) -> None:
        assert wire(self.spend(amount="0.00"))["amount_minor"] == 0

    @pytest.mark.parametrize(
        "email", ["not-an-email", "@example.com", "a b@example.com"]
    )
    def test_identify_impossible_email_rejected_naming_email(self, email: str) -> None:
        event = {"type": "identify", "visitor_id": "v1", "email": email}

        with pytest.raises(InvalidEvent) as caught:
            wire(event)

        assert [p.field for p in caught.value.problems] == ["email"]
