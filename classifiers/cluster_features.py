"""The compact record of one complaint that event clustering compares: entity keys and rare words.

Everything is a tuple of interned strings so two hundred thousand of them fit in memory; the
display text of each key is kept apart for the explanation shown to staff.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from classifiers.cluster_vocab import sound_key
from classifiers.entities import (
    USE_HMM,
    Entities,
    Lexicon,
    content_words,
    extract_entities,
    stated_years,
    tokenize,
)
from classifiers.normalize import normalize_text
from classifiers.paths import PROJECT_ROOT, var_dir

_intern = sys.intern
KINDS = (
    "township",
    "village",
    "group",
    "person",
    "surname",
    "object",
    "amount",
    "year",
    "stated_year",
    "era",
    "word",
    "gram",
)


@dataclass(frozen=True, slots=True)
class Features:
    """Keys per kind. Persons appear twice: the full name or surname key (``person``) and the
    surname alone with its role (``surname``: ``liu`` and ``liu/director``)."""

    township: tuple[str, ...] = ()
    village: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    person: tuple[str, ...] = ()
    surname: tuple[str, ...] = ()
    object: tuple[str, ...] = ()  # "family/kind"
    amount: tuple[int, ...] = ()
    year: tuple[int, ...] = ()  # years named, also as 去年/今年
    stated_year: tuple[int, ...] = ()  # years written as numbers: 2021年
    era: tuple[int, ...] = ()  # the stated years, or else the year it was received
    word: tuple[str, ...] = ()
    gram: tuple[str, ...] = ()  # characters and pairs of what it says: the matter (matter_vector)
    labels: tuple[tuple[str, str], ...] = ()  # (kind:key, text as written) for explanations

    def to_list(self) -> list:
        return [list(getattr(self, k)) for k in KINDS] + [[list(p) for p in self.labels]]

    @classmethod
    def from_list(cls, data: list) -> Features:
        *values, labels = data
        # Records saved before a kind existed have fewer lists: the missing kinds are empty.
        kw = {
            k: tuple(_intern(v) if isinstance(v, str) else v for v in vals)
            for k, vals in zip(KINDS, values, strict=False)
        }
        return cls(**kw, labels=tuple((_intern(a), b) for a, b in labels))

    def label(self, kind: str, key: object) -> str:
        wanted = f"{kind}:{key}"
        return next((text for k, text in self.labels if k == wanted), str(key))


def _unique(values: Iterable) -> tuple:
    return tuple(dict.fromkeys(values))


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def char_grams(norm: str) -> list[str]:
    """The distinct characters and character pairs of a normalised text's Han runs (河, 河湾,
    湾, 湾村 …): what the matter signal compares, robust to how jieba cuts misheard words."""
    out: dict[str, None] = {}
    for run in _HAN_RUN.findall(norm):
        for i, ch in enumerate(run):
            out.setdefault(ch)
            if i + 1 < len(run):
                out.setdefault(run[i : i + 2])
    return list(out)


def build_features(
    entities: Entities,
    words: Iterable[str],
    received: date | None = None,
    grams: Iterable[str] = (),
) -> Features:
    """The clustering record from extracted entities and the complaint's content words."""
    by_kind: dict[str, list] = {k: [] for k in KINDS}
    labels: list[tuple[str, str]] = []
    named = set()
    for m in entities.mentions:
        named.add(m.text)
        if m.kind == "person":
            by_kind["person"].append(m.key)
            labels.append((f"person:{m.key}", m.text))
            surname = m.surname_key
            by_kind["surname"].append(surname)
            if m.role:
                by_kind["surname"].append(f"{surname}/{m.role}")
            labels.append((f"surname:{surname}", m.text[0]))
        elif m.kind == "object":
            key = f"{m.role}/{m.key}"
            by_kind["object"].append(key)
            labels.append((f"object:{key}", m.text))
        elif m.kind in ("amount", "year"):
            by_kind[m.kind].append(int(m.key))
            labels.append((f"{m.kind}:{int(m.key)}", m.text))
        else:
            by_kind[m.kind].append(m.key)
            labels.append((f"{m.kind}:{m.key}", m.text))
    for word in words:
        if word in named or any(word in n or n in word for n in named if len(n) >= 2):
            continue
        key = sound_key(word)
        by_kind["word"].append(key)
        labels.append((f"word:{key}", word))
    by_kind["gram"] = list(grams)
    by_kind["stated_year"] = sorted(stated_years(entities))
    if by_kind["stated_year"]:
        by_kind["era"] = list(by_kind["stated_year"])
    elif received is not None:
        by_kind["era"] = [received.year]
    return Features(
        **{
            k: _unique(_intern(v) if isinstance(v, str) else v for v in vals)
            for k, vals in by_kind.items()
        },
        labels=tuple(dict.fromkeys((_intern(k), t) for k, t in labels)),
    )


def complaint_features(
    text: str, received: date | None = None, lexicon: Lexicon | None = None
) -> tuple[Features, Entities]:
    """Normalise once, extract entities and words, and build the record."""
    norm = normalize_text(text)
    words = tokenize(norm)
    entities = extract_entities(norm, received, lexicon, normalized=True, words=words)
    # The matter is what is said beside the names: a village's or a cadre's name shared is counted
    # once, by the entities, not again as matter.
    said = norm
    for m in entities.mentions:
        if m.kind in ("village", "township", "person") and len(m.text) >= 2:
            said = said.replace(m.text, " ")
    return build_features(entities, content_words(words), received, char_grams(said)), entities


# -- word rarity --------------------------------------------------------------------------------

# The training split only: test and blind splits stay unread.
BACKGROUND_DIR = PROJECT_ROOT / "nlu_data" / "complaints" / "train"


def _background_texts(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("text"), str):
                    texts.append(record["text"])
    return texts


@lru_cache(maxsize=4)
def background_df(folder: Path = BACKGROUND_DIR) -> tuple[int, dict[str, int]]:
    """(number of texts, document frequency of each word key) over the training complaints: how
    common a word is in complaints in general (低保 is everywhere, 小舅子 is not). Cached under
    var/cache, keyed by the corpus content."""
    texts = _background_texts(folder) if folder.is_dir() else []
    tag = f"hmm{int(USE_HMM)}-grams"  # the words depend on how the text is cut
    digest = hashlib.sha1(("\n".join(texts) + tag).encode()).hexdigest()[:12]
    cache = var_dir() / "cache" / f"cluster-df-{digest}.json"
    if cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
        return data["n"], data["df"]
    df: Counter[str] = Counter()
    for text in texts:
        norm = normalize_text(text)
        df.update({sound_key(w) for w in content_words(tokenize(norm))})
        df.update(char_grams(norm))  # Han pairs and pinyin word keys never collide
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps({"n": len(texts), "df": df}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(cache)
    return len(texts), dict(df)


@lru_cache(maxsize=1)
def _matter_idf() -> tuple[float, dict[str, float]]:
    """(idf of an unseen gram, idf per gram) learned from the training complaints."""
    n, df = background_df()
    unseen = math.log((n + 1) / 1) + 1
    return unseen, {k: math.log((n + 1) / (v + 1)) + 1 for k, v in df.items() if len(k) <= 2}


def matter_vector(grams: Iterable[str]) -> dict[str, float]:
    """A complaint's grams weighted by how telling each is across complaints (tf-idf of
    characters and pairs, idf learned on the training corpus; a character pair seen in nearly
    every complaint, 低保 in S01's, weighs little), of unit length. Two reports of one matter
    have a high cosine whatever their register (AUC about 0.83 on the dev sets, same-item pairs)."""
    unseen, idf = _matter_idf()
    vec = {g: idf.get(g, unseen) for g in grams}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {g: v / norm for g, v in vec.items()} if norm else {}


class WordRarity:
    """Inverse document frequency of word keys over the background corpus plus every complaint
    the clusterer has seen."""

    def __init__(self, background: tuple[int, dict[str, int]] | None = None) -> None:
        self.n_background, self.background = background or (0, {})
        self.n_seen = 0
        self.seen: Counter[str] = Counter()

    def observe(self, words: Iterable[str]) -> None:
        self.n_seen += 1
        self.seen.update(words)

    def df(self, word: str) -> int:
        return self.background.get(word, 0) + self.seen.get(word, 0)

    def idf(self, word: str) -> float:
        n = self.n_background + self.n_seen
        return math.log((n + 1) / (self.df(word) + 1))
