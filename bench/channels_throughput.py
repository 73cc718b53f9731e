"""Print how fast the shipped rule set classifies a mix of typical touches.

Run: ``.venv/bin/python bench/channels_throughput.py [COUNT]``
"""

from __future__ import annotations

import sys
import time

EVENTS = [
    {
        "url": "https://www.example.com/?utm_source=google&utm_medium=cpc&gclid=x",
        "referrer": "https://www.google.com/",
    },
    {
        "url": "https://www.example.com/pricing?fbclid=a",
        "referrer": "https://l.facebook.com/",
    },
    {"url": "https://www.example.com/pricing", "referrer": "https://www.google.co.uk/"},
    {
        "url": "https://shop.example.com/cart",
        "referrer": "https://shop.example.com/p/1",
    },
    {"url": "https://www.example.com/", "referrer": ""},
]


def main(count: int) -> None:
    started = time.perf_counter()
    from streams.channels import classify, default_classifier

    default_classifier()
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    for index in range(count):
        classify(EVENTS[index % len(EVENTS)])
    elapsed_s = time.perf_counter() - started

    print(f"rule set and referrer data loaded in {load_s:.3f} s")
    print(
        f"{count} classifications in {elapsed_s:.2f} s: {count / elapsed_s:,.0f}/s, "
        f"{elapsed_s / count * 1e6:.1f} us each"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
