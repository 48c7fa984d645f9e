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

from classifiers.cluster_vocab import OBJECT_FAMILIES, sound_key
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


_PLACE_KINDS = ("village", "township")


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
    # A place's name with its 村 or 镇 is cut by jieba as it likes (蒋|河村): none of it is a word.
    named |= {
        m.text + suffix
        for m in entities.mentions
        if m.kind in _PLACE_KINDS
        for suffix in ("村", "镇", "乡")
    }
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


def _item_texts(folder: Path) -> dict[str, list[str]]:
    """The training complaints per supervision item (files S01.jsonl, S01.b2.jsonl … are S01)."""
    out: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        texts = out.setdefault(path.name.split(".", 1)[0], [])
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("text"), str):
                    texts.append(record["text"])
    return out


def _background_texts(folder: Path) -> list[str]:
    return [text for texts in _item_texts(folder).values() for text in texts]


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


@lru_cache(maxsize=4)
def item_gram_df(folder: Path = BACKGROUND_DIR) -> dict[str, tuple[int, dict[str, int]]]:
    """Per supervision item: (number of texts, document frequency of each character gram) over
    its training complaints. What every complaint of an item says (低保, 评 in S01's) tells
    nothing about which matter of that item a report is about. Cached like ``background_df``."""
    by_item = _item_texts(folder) if folder.is_dir() else {}
    tag = "item-grams-2"
    joined = "\n".join(f"{item}\t{text}" for item, texts in by_item.items() for text in texts)
    digest = hashlib.sha1((joined + tag).encode()).hexdigest()[:12]
    cache = var_dir() / "cache" / f"cluster-item-df-{digest}.json"
    if cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
        return {item: (n, df) for item, (n, df) in data.items()}
    out: dict[str, tuple[int, dict[str, int]]] = {}
    for item, texts in by_item.items():
        df: Counter[str] = Counter()
        for text in texts:
            df.update(char_grams(normalize_text(text)))
        out[item] = (len(texts), dict(df))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    tmp.replace(cache)
    return out


# An object named in this share of an item's training complaints is what the item is about
# (高龄津贴 in S05's, 宅基地 in S28's): two reports naming it agree on nothing the item did not.
USUAL_OBJECT_SHARE = 0.4


@lru_cache(maxsize=4)
def usual_objects(folder: Path = BACKGROUND_DIR) -> dict[str, frozenset[str]]:
    """Per supervision item, the object keys ("family/kind") its training complaints usually
    name (at least ``USUAL_OBJECT_SHARE`` of them). Cached under var/cache, keyed by the corpus
    and the object vocabulary."""
    by_item = _item_texts(folder) if folder.is_dir() else {}
    joined = "\n".join(f"{item}\t{text}" for item, texts in by_item.items() for text in texts)
    vocabulary = json.dumps(OBJECT_FAMILIES, ensure_ascii=False, sort_keys=True)
    tag = f"usual-objects-1-{USUAL_OBJECT_SHARE}"
    digest = hashlib.sha1((joined + vocabulary + tag).encode()).hexdigest()[:12]
    cache = var_dir() / "cache" / f"cluster-usual-objects-{digest}.json"
    if cache.exists():
        data = json.loads(cache.read_text(encoding="utf-8"))
        return {item: frozenset(keys) for item, keys in data.items()}
    out: dict[str, list[str]] = {}
    for item, texts in by_item.items():
        counts: Counter[str] = Counter()
        for text in texts:
            entities = extract_entities(normalize_text(text), normalized=True, gazetteer=None)
            counts.update({f"{m.role}/{m.key}" for m in entities.of("object")})
        out[item] = sorted(k for k, n in counts.items() if n >= USUAL_OBJECT_SHARE * len(texts))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    tmp.replace(cache)
    return {item: frozenset(keys) for item, keys in out.items()}


# How much a gram's frequency across all complaints counts toward its frequency within an item
# (an item has ~150 training texts: alone they misjudge rare grams), and how sharply rarity is
# weighed (idf ** 1.5). Chosen on the dev sets' same-item pairs (AUC of same event vs not).
MATTER_SMOOTHING = 1.0
MATTER_SHARPNESS = 1.5
_MATTER_MIN_WEIGHT = 0.1


def _matter_weight(
    gram: str, n: int, df: dict[str, int], n_all: int, df_all: dict[str, int]
) -> float:
    """How telling ``gram`` is within an item of ``n`` training texts: its idf there, the
    item's counts smoothed toward the whole corpus's."""
    count = df.get(gram, 0) + MATTER_SMOOTHING * df_all.get(gram, 0) * n / max(n_all, 1)
    idf = math.log((n + 1) / (count + 1)) + 1
    return max(_MATTER_MIN_WEIGHT, idf) ** MATTER_SHARPNESS


def matter_vector(grams: Iterable[str], item: str | None = None) -> dict[str, float]:
    """A complaint's grams weighted by how telling each is among complaints of its item (tf-idf
    of characters and pairs, idf learned on the training corpus per item: 低保 weighs little in
    S01, 系统 much), of unit length. Two reports of one matter have a high cosine whatever their
    register (AUC about 0.84 on the dev sets' same-item pairs; 0.80 with corpus-wide idf)."""
    n_all, df_all = background_df()
    n, df = item_gram_df().get(item or "", (n_all, df_all))
    vec = {g: _matter_weight(g, n, df, n_all, df_all) for g in grams}
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
