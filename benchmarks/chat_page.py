"""The residents' chat page (/chat): page weight, first paint on a throttled slow-3G line, and
the taps or messages a filing from a village poster takes after the story. Starts the real
stack (case service, Rasa, action server) on ports 8700–8799 / 5700–5799 and drives Debian's
Chromium at 390×844.

    .venv/bin/python -m benchmarks.chat_page
"""

from __future__ import annotations

import secrets
import statistics
import tempfile
from pathlib import Path
from urllib.parse import quote

import httpx

from classifiers.paths import default_model_path
from hotline.bot_commands import train_bot
from hotline.processes import service_env
from hotline.stack import Stack
from tests import browser_support as bs
from tests.test_chat_browser import PHONE_VIEW, STORY, Phone, port_in

POSTER = "/chat?v=" + quote("河湾村") + "&t=" + quote("城关镇")
# Throughput in bytes/s, latency in ms added to each request (Chrome DevTools protocol).
PROFILES = {
    # The "slow 3G" most Playwright guides use: 400 ms, 400 kbit/s.
    "slow-3G 400ms 400kbit/s": {"latency": 400, "downloadThroughput": 50_000},
    # Chrome DevTools' own "Slow 3G" preset (its latency already multiplied by 5).
    "DevTools Slow 3G 2000ms 400kbit/s": {"latency": 2000, "downloadThroughput": 50_000},
}
RUNS = 5


def page_weight(base: str) -> dict[str, int]:
    html = httpx.get(base + POSTER).content
    script = httpx.get(base + "/chat/static/chat.js").content
    return {
        "html (css inlined)": len(html),
        "chat.js": len(script),
        "total": len(html) + len(script),
    }


def first_paint(browser, base: str, conditions: dict) -> float:
    """Milliseconds from navigation start to the first contentful paint, cold cache."""
    context = browser.new_context(viewport=PHONE_VIEW, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "uploadThroughput": conditions["downloadThroughput"], **conditions},
    )
    page.goto(base + POSTER, wait_until="load", timeout=60_000)
    paint = page.evaluate(
        "() => { const e = performance.getEntriesByName('first-contentful-paint')[0];"
        " return e ? e.startTime : null; }"
    )
    context.close()
    return float(paint)


def poster_filing(browser, base: str) -> tuple[int, str]:
    """Taps and typed messages after the story, for a filing from a village poster."""
    phone = Phone(browser, base)
    phone.open(POSTER)
    phone.tap("反映问题")
    phone.type(STORY)
    after_story = phone.actions
    phone.tap("匿名")
    phone.type("139" + "".join(secrets.choice("0123456789") for _ in range(8)))
    phone.tap("对")
    number = phone.page.locator("#log .case .num").inner_text()
    phone.close()
    return phone.actions - after_story, number


def run() -> None:
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    stack = Stack(
        home,
        service_env(home, default_model_path(), None),
        train_bot(),
        api_port=port_in(8700, 8800),
        actions_port=port_in(5700, 5750),
        rasa_port=port_in(5750, 5800),
    ).start()
    try:
        weight = page_weight(stack.api_url)
        print("page weight (bytes, uncompressed):")
        for name, size in weight.items():
            print(f"  {name:20s} {size:8,d}")
        print(f"  budget 300 KB: {'ok' if weight['total'] < 300 * 1024 else 'OVER'}")
        with sync_playwright() as playwright:
            browser = bs.launch(playwright)
            for name, conditions in PROFILES.items():
                paints = [first_paint(browser, stack.api_url, conditions) for _ in range(RUNS)]
                print(
                    f"first contentful paint, {name}: median {statistics.median(paints):.0f} ms"
                    f" (min {min(paints):.0f}, max {max(paints):.0f}, {RUNS} cold loads;"
                    " target < 2000 ms)"
                )
            taps, number = poster_filing(browser, stack.api_url)
            print(
                f"filing from a village poster: {taps} taps/messages after the story"
                f" (target <= 6), case {number}"
            )
            browser.close()
    finally:
        stack.stop()


if __name__ == "__main__":
    run()
