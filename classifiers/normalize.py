"""Text normalisation shared by training and prediction.

Residents type full-width characters, traditional characters (relatives abroad, old phones) and
Chinese numerals; speech recognition adds its own spacing. Normalising first means the model sees
one spelling of each thing.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import opencc

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"\s+")
_DIGITS = {
    "零": "0",
    "〇": "0",
    "○": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
# A run of numeral characters; converted only when it clearly is a number (see _convert_numeral).
_NUMERAL_RUN = re.compile(r"(第?)([零〇○一幺二两三四五六七八九十百千万亿]+)(?=(.?))")
# Measure words after which a numeral with units (十百千万) is a quantity,
# not an idiom (十分, 千万).
_MEASURES = set("元块角亩岁年月日号个户人组天斤米间套次家位名期批笔间栋辆头只条项多余")
_UNITS = set("十百千万亿")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Every character the traditional-to-simplified tables can change. Most complaints contain
    none, and checking first skips a conversion that costs a fifth of the prediction time."""
    folder = Path(opencc.__file__).resolve().parent / "dictionary"
    chars: set[str] = set()
    for name in ("TSCharacters.txt", "TSPhrases.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            target = values.split(" ")[0]
            for k, (src, dst) in enumerate(zip(key, target + " " * len(key), strict=False)):
                if src != dst or len(key) != len(target) or k >= len(target):
                    chars.add(src)
    return frozenset(chars)


def _convert_numeral(match: re.Match[str]) -> str:
    prefix, run, following = match.group(1), match.group(2), match.group(3)
    has_units = any(ch in _UNITS for ch in run)
    if not has_units:
        # Digit strings: years (二〇二三), phone and case numbers (幺三八…), group numbers (第三).
        if len(run) >= 3 or (prefix and len(run) >= 1) or following in _MEASURES:
            return prefix + "".join(_DIGITS[ch] for ch in run)
        return match.group(0)[: len(prefix) + len(run)]
    if not (prefix or following in _MEASURES):
        return prefix + run  # 十分, 千万不要, 万一: idioms, not numbers
    import cn2an  # imported on first use: 0.1 s of start-up that most texts never need

    try:
        value = cn2an.cn2an(run, "normal")
    except (ValueError, KeyError, IndexError):
        return prefix + run
    return prefix + str(int(value) if float(value).is_integer() else value)


def convert_numerals(text: str) -> str:
    """Turn Chinese numerals that denote quantities, years or numbers into Arabic digits."""
    return _NUMERAL_RUN.sub(_convert_numeral, text)


def to_simplified(text: str) -> str:
    """Convert traditional characters to simplified ones."""
    if _traditional_chars().isdisjoint(text):
        return text
    return _t2s().convert(text)


def normalize_text(text: str) -> str:
    """Canonical form: NFKC (full-width to half-width), simplified characters, Arabic numerals,
    lower-case Latin letters, no zero-width characters and single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    text = to_simplified(text)
    text = convert_numerals(text)
    return _SPACES.sub(" ", text).strip().lower()
