"""The county's gazetteer as the bot needs it here: an example village to name in a question.
Matching what residents say against it happens in the case service (pinyin folding needs its
environment); this only reads the names."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

PLACES = Path(__file__).resolve().parent.parent / "config" / "places.yml"


@lru_cache(maxsize=1)
def _townships() -> dict[str, list[str]]:
    data = yaml.safe_load(PLACES.read_text(encoding="utf-8")) or {}
    return {
        t["name"]: [v["name"] for v in t.get("villages") or []] for t in data.get("townships") or []
    }


def example_village(township: str | None) -> str:
    """A village of the resident's township (or of the county) to show the answer's shape."""
    townships = _townships()
    villages = townships.get(township or "") or next(iter(townships.values()), [])
    return villages[0] if villages else "李庄村"


def example_township() -> str:
    """A township of the county to show the answer's shape."""
    return next(iter(_townships()), "城关镇")


def gazetteer_village(name: str) -> tuple[str, str] | None:
    """(township, village) for a village's exact name in the gazetteer, else None."""
    for township, villages in _townships().items():
        if name in villages:
            return township, name
    return None
