"""Small pieces of wording that depend on data (dates, excerpts, where a place is). The
sentences themselves are responses in bot/domain.yml."""

from __future__ import annotations

import re

_HAN = re.compile(r"[\u4e00-\u9fa5]")


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def excerpt(text: str, limit: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_date(iso: str | None) -> str | None:
    """'2026-12-11' → '12月11日', as a person says it (this year's dates need no year)."""
    if not iso:
        return None
    _year, month, day = (int(part) for part in iso[:10].split("-"))
    return f"{month}月{day}日"


def place_words(township: str | None, village: str | None, group: str | None) -> str:
    """'城关镇河湾村四组', or a plain '村子没说' when the resident did not say."""
    words = "".join(part for part in (township, village, group) if part)
    return words or "村子没说"
