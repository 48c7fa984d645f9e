"""Whether a resident has told a matter yet, for both the bot (a request for a person with no
story keeps the case open for the story told next) and the case service (such a case is not
clustered with anyone: every bare "转人工" would otherwise look like one event)."""

from __future__ import annotations

# Fewer Han characters than this is a request or a greeting, not a story ("别问了", "（无）").
MATTER_MIN_HAN = 8


def tells_a_matter(words: str) -> bool:
    return sum("\u4e00" <= ch <= "\u9fa5" for ch in words) >= MATTER_MIN_HAN
