"""The text of a case opened because a resident asked for a person: a header for the staff
member who calls back, then what the resident said. The classifier and the clusterer read only
the resident's words, so the header's words (人工服务) never pull a matter into 清单外."""

from __future__ import annotations

from common.told import tells_a_matter

HEADER = "【请求人工服务】"
_SAID = "\n居民说：\n"


def handoff_text(reason: str, said: list[str]) -> str:
    return f"{HEADER}{reason}{_SAID}{chr(10).join(said) or '（无）'}"


def resident_words(text: str) -> str:
    """What the resident said: a handoff case's text without its header; any other unchanged."""
    if text.startswith(HEADER) and _SAID in text:
        return text.split(_SAID, 1)[1]
    return text


def tells_no_matter(text: str) -> bool:
    """A request for a person with no story yet: the clusterer keeps it apart from everyone."""
    return text.startswith(HEADER) and not tells_a_matter(resident_words(text))
