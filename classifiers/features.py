"""Feature extraction for the triage model: words, characters and pinyin.

Three views of one normalised text, each prefixed so one vectorizer holds them all:
- ``w:`` jieba words: the vocabulary staff recognise (word bigrams were tried and did not help
  in cross-validation, so they are left out);
- ``c:`` character 2-3-grams: robust when jieba splits an unknown name or a misspelling oddly;
- ``p:`` pinyin syllable 2-3-grams: speech recognition writes 滴保 for 低保 and 五包 for 五保; both
  sound the same, so the pinyin view carries the meaning across the homophone error.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import metadata

from classifiers.paths import var_dir
from classifiers.segment import segment

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PUNCT_OR_SPACE = re.compile(r"[\W_]+")
NUMBER_TOKEN = "<num>"


HAN_FIRST, HAN_LAST = 0x4E00, 0x9FFF


@lru_cache(maxsize=1)
def _syllable_table() -> dict[str, str]:
    """Toneless pinyin of every CJK unified ideograph (its most common reading).

    Built once from pypinyin and cached as JSON under var/cache: importing pypinyin costs 55 MB
    and 0.3 s (it loads its whole phrase dictionary), while features need single characters."""
    version = metadata.version("pypinyin")
    cache = var_dir() / "cache" / f"syllables-{version}.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    from pypinyin import Style, lazy_pinyin

    table = {
        chr(cp): lazy_pinyin(chr(cp), style=Style.NORMAL)[0]
        for cp in range(HAN_FIRST, HAN_LAST + 1)
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    tmp.replace(cache)
    return table


def syllable(char: str) -> str:
    """Toneless pinyin of one Han character."""
    return _syllable_table()[char]


def is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _word_tokens(text: str) -> list[str]:
    words = []
    for word in segment(text):
        if _PUNCT_OR_SPACE.fullmatch(word):
            continue
        words.append(NUMBER_TOKEN if _NUMBER.fullmatch(word) else word)
    return words


def _char_runs(text: str) -> list[str]:
    """Runs of text between punctuation, digits folded, so n-grams never span a sentence break."""
    folded = _NUMBER.sub("0", text)
    return [run for run in _PUNCT_OR_SPACE.split(folded) if run]


def analyze(text: str) -> list[str]:
    """All feature tokens of one normalised text (the vectorizer's analyzer)."""
    features: list[str] = []
    words = _word_tokens(text)
    features.extend("w:" + word for word in words)
    for run in _char_runs(text):
        for n in (2, 3):
            features.extend("c:" + run[i : i + n] for i in range(len(run) - n + 1))
        syllables = [syllable(ch) for ch in run if is_han(ch)]
        for n in (2, 3):
            features.extend(
                "p:" + " ".join(syllables[i : i + n]) for i in range(len(syllables) - n + 1)
            )
    return features


def han_syllables(text: str) -> list[tuple[str, str]]:
    """(character, syllable) pairs for the Han characters of a text, to map pinyin back to text."""
    return [(ch, syllable(ch)) for ch in text if is_han(ch)]


def display_term(feature: str, text: str, pairs: list[tuple[str, str]] | None = None) -> str:
    """How a feature looks to staff: the words or characters of the text it came from.
    ``pairs`` (from han_syllables) may be passed in when several features of one text are shown."""
    kind, _, value = feature.partition(":")
    if kind == "p":
        wanted = value.split(" ")
        pairs = han_syllables(text) if pairs is None else pairs
        sylls = [s for _, s in pairs]
        for i in range(len(sylls) - len(wanted) + 1):
            if sylls[i : i + len(wanted)] == wanted:
                return "".join(ch for ch, _ in pairs[i : i + len(wanted)])
        return value
    return value
