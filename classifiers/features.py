"""Feature extraction for the triage model: words, characters and pinyin.

Three views of one normalised text, each prefixed so one vocabulary holds them all:
- ``w:`` jieba words: the vocabulary staff recognise (word bigrams were tried and did not help
  in cross-validation, so they are left out);
- ``c:`` character 2-3-grams: robust when jieba splits an unknown name or a misspelling oddly;
- ``p:`` pinyin syllable 2-3-grams: speech recognition writes 滴保 for 低保 and 五包 for 五保; both
  sound the same, so the pinyin view carries the meaning across the homophone error.

Speed (issue 16): a pinyin n-gram is not spelled out ("di bao") but written with one private-use
character per toneless syllable, so a whole run of text becomes its syllables through one
``str.translate`` and n-grams are plain string slices. ``pinyin_feature("di bao")`` gives the
feature of a spelled-out syllable sequence, ``display_term`` turns any feature back into the
text's own characters.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from itertools import repeat

import numpy as np
import scipy.sparse as sp

from classifiers.paths import var_dir
from classifiers.segment import segment

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PUNCT_OR_SPACE = re.compile(r"[\W_]+")
NUMBER_TOKEN = "<num>"

HAN_FIRST, HAN_LAST = 0x4E00, 0x9FFF
# Supplementary private use area A: no complaint contains these, so they can stand for syllables.
_SYLLABLE_BASE = 0xF0000
_NOT_SYLLABLE = re.compile("[^\U000f0000-\U000fffff]+")
_NOT_HAN = re.compile("[^\u4e00-\u9fff]+")


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


@lru_cache(maxsize=1)
def _syllable_codes() -> tuple[dict[int, str], dict[str, str], dict[str, str]]:
    """(Han code point -> syllable character, syllable -> character, character -> syllable)."""
    table = _syllable_table()
    code_of = {s: chr(_SYLLABLE_BASE + i) for i, s in enumerate(sorted(set(table.values())))}
    translate = {ord(ch): code_of[s] for ch, s in table.items()}
    return translate, code_of, {c: s for s, c in code_of.items()}


def syllable(char: str) -> str:
    """Toneless pinyin of one Han character."""
    return _syllable_table()[char]


def is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def syllable_string(text: str) -> str:
    """The text's Han characters as one syllable character each (everything else dropped)."""
    return _NOT_SYLLABLE.sub("", text.translate(_syllable_codes()[0]))


def pinyin_feature(spelled: str) -> str:
    """The feature name of a spelled-out syllable sequence: ``pinyin_feature("di bao")``."""
    code_of = _syllable_codes()[1]
    return "p:" + "".join(code_of[s] for s in spelled.split())


def spell_pinyin(feature: str) -> str:
    """A pinyin feature spelled out for people and reports ("p:di bao")."""
    kind, _, value = feature.partition(":")
    if kind != "p":
        return feature
    names = _syllable_codes()[2]
    return "p:" + " ".join(names.get(ch, ch) for ch in value)


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
    features = ["w:" + word for word in _word_tokens(text)]
    translate = _syllable_codes()[0]
    for run in _char_runs(text):
        size = len(run)
        features += ["c:" + run[i : i + 2] for i in range(size - 1)]
        features += ["c:" + run[i : i + 3] for i in range(size - 2)]
        sylls = _NOT_SYLLABLE.sub("", run.translate(translate))
        size = len(sylls)
        features += ["p:" + sylls[i : i + 2] for i in range(size - 1)]
        features += ["p:" + sylls[i : i + 3] for i in range(size - 2)]
    return features


def count_features(text: str) -> Counter[str]:
    """Feature counts of one normalised text (what the vectorizer counts, without its loop)."""
    return Counter(analyze(text))


def display_term(feature: str, text: str, sylls: str | None = None) -> str:
    """How a feature looks to staff: the words or characters of the text it came from.
    ``sylls`` (from syllable_string) may be passed in when several features of one text are
    shown."""
    kind, _, value = feature.partition(":")
    if kind == "p":
        sylls = syllable_string(text) if sylls is None else sylls
        at = sylls.find(value)
        if at < 0:
            return spell_pinyin(feature)[2:]
        return _NOT_HAN.sub("", text)[at : at + len(value)]
    return value


@dataclass
class FeatureSpace:
    """The fitted tf-idf (vocabulary and idf) without scikit-learn: loading a model then needs no
    scikit-learn import, and the rows are counted with C loops (``Counter``, ``map(dict.get)``)
    instead of scikit-learn's per-token Python loop, which was a third of the prediction time.
    ``transform`` computes what ``TfidfVectorizer(sublinear_tf=True).transform`` does."""

    vocabulary_: dict[str, int]
    idf_: np.ndarray

    @classmethod
    def of(cls, vectorizer) -> FeatureSpace:
        """From a fitted ``TfidfVectorizer`` whose analyzer is ``analyze``."""
        return cls(dict(vectorizer.vocabulary_), np.asarray(vectorizer.idf_, dtype=np.float64))

    def get_feature_names_out(self) -> list[str]:
        names = [""] * len(self.vocabulary_)
        for name, index in self.vocabulary_.items():
            names[index] = name
        return names

    def transform(self, normalized: Sequence[str]) -> sp.csr_matrix:
        """Sublinear tf times idf, l2-normalised rows, of normalised texts."""
        vocabulary, idf = self.vocabulary_, self.idf_
        keys: list[str] = []
        counts: list[int] = []
        sizes = np.zeros(len(normalized), dtype=np.int64)
        for i, text in enumerate(normalized):
            counter = count_features(text)
            keys += counter.keys()
            counts += counter.values()
            sizes[i] = len(counter)
        found = np.fromiter(map(vocabulary.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))
        known = found >= 0
        rows = np.repeat(np.arange(len(normalized)), sizes)[known]
        index = found[known].astype(np.int32)
        tf = np.asarray(counts, dtype=np.float64)[known] if keys else np.zeros(0)
        values = (np.log(tf) + 1.0) * idf[index]
        norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=len(normalized)))
        norms[norms == 0] = 1.0
        values /= norms[rows]
        indptr = np.zeros(len(normalized) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(normalized)), out=indptr[1:])
        shape = (len(normalized), len(idf))
        return sp.csr_matrix((values.astype(np.float32), index, indptr), shape=shape)
