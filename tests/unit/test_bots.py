from __future__ import annotations

import pytest

from streams.bots import is_bot


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/118.0.0.0 Safari/537.36 Prerender "
        "(+https://github.com/prerender/prerender)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    ],
)
def test_is_bot_headless_or_crawler_agent_true(agent: str) -> None:
    assert is_bot(agent)


def test_is_bot_desktop_chrome_false() -> None:
    agent = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )

    assert not is_bot(agent)


@pytest.mark.parametrize("agent", ["", "   "])
def test_is_bot_missing_agent_false(agent: str) -> None:
    assert not is_bot(agent)
