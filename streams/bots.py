"""Bot detection by user agent, with the crawler list kept by CrawlerDetect.

HeadlessChrome, Prerender and the other automation and crawler agents that list
knows are bots; an empty user agent is not called a bot here, because server-side
events (calls, CRM, imports) carry none.
"""

from __future__ import annotations

import functools

from crawlerdetect import CrawlerDetect


@functools.cache
def _detector() -> CrawlerDetect:
    return CrawlerDetect()


@functools.lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """True when the user agent belongs to a crawler, bot or headless browser."""
    text = user_agent.strip()
    if not text:
        return False
    return bool(_detector().isCrawler(text))
