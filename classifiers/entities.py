"""What identifies an event in a complaint: places, people, objects, amounts and years.

Residents name the same thing in many ways: 李庄村 / 李庄 / 俺是李庄的, 三组 / 第三村民组,
刘主任 / 刘长贵 / 姓刘的, and speech recognition writes 和湾村 for 河湾村, 周营 for 周郢 or 流主任
for 刘主任.
Every mention therefore carries a *key* built from toneless pinyin with the sound pairs local
speech confuses folded together (``cluster_vocab.sound_key``): spellings that sound alike get the
same key, and matching compares keys.

``extract_entities`` is pure. A ``Lexicon`` of names learned from earlier complaints (李庄 was
seen as 李庄村, so a bare 李庄 later is a village too; 刘长贵 was seen as 主任刘长贵) can be
passed in and is only read here; the caller decides when to ``learn``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import cn2an

from classifiers.cluster_vocab import (
    AMBIGUOUS_SURNAMES,
    BEFORE_SUFFIX_STOP,
    GIVEN_STOP,
    HAN,
    LOOSE_AFTER,
    NAME_STOP,
    NAME_STOPWORDS,
    NOT_SURNAME,
    OBJECT_FAMILY_OF,
    OFFICIAL_ROLES,
    STOPWORDS,
    SURNAME_CLASS,
    SURNAMES,
    TITLE_RE,
    TITLES,
    TOWNSHIP_SUFFIXES,
    VILLAGE_SUFFIXES,
    VILLAGE_TAIL,
    fuzzy_syllable,
    object_tables,
    sound_key,
    sounds,
    tagged_words,
    word_freq,
)
from classifiers.features import syllable
from classifiers.normalize import normalize_text
from classifiers.segment import tokenizer

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Mention:
    """One thing named in a complaint. ``key`` is what matching compares; ``text`` is shown."""

    kind: str  # township | village | group | person | object | amount | year
    text: str
    key: str
    role: str = ""  # persons: secretary, director …; objects: the family (facility, crop …)

    @property
    def surname_key(self) -> str:
        return self.key.split(" ", 1)[0]


@dataclass(frozen=True, slots=True)
class Entities:
    mentions: tuple[Mention, ...]

    def of(self, kind: str) -> list[Mention]:
        return [m for m in self.mentions if m.kind == kind]

    def keys(self, kind: str) -> set[str]:
        return {m.key for m in self.mentions if m.kind == kind}

    def as_dict(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for m in self.mentions:
            out.setdefault(m.kind, []).append(m.text)
        return out


@dataclass
class Lexicon:
    """Names learned from earlier complaints, as written."""

    villages: set[str] = field(default_factory=set)
    townships: set[str] = field(default_factory=set)
    persons: set[str] = field(default_factory=set)

    def learn(self, entities: Entities) -> None:
        for m in entities.mentions:
            if m.kind == "village" and 2 <= len(m.text) <= 3:
                self.villages.add(m.text)
            elif m.kind == "township" and 2 <= len(m.text) <= 3:
                self.townships.add(m.text)
            elif m.kind == "person" and len(m.text) == 3 and m.text[0] in SURNAMES:
                self.persons.add(m.text)

    def to_dict(self) -> dict[str, list[str]]:
        return {k: sorted(getattr(self, k)) for k in ("villages", "townships", "persons")}

    @classmethod
    def from_dict(cls, data: dict[str, Iterable[str]]) -> Lexicon:
        return cls(*(set(data.get(k, ())) for k in ("villages", "townships", "persons")))


# jieba's HMM guesses words the dictionary lacks (it finds 王德福 as one word) at twice the cost.
USE_HMM = False


def tokenize(norm: str) -> list[str]:
    """jieba words of a normalised text (one pass, shared by all extractors)."""
    return tokenizer().lcut(norm, HMM=USE_HMM)


def _spans(words: list[str]) -> list[Span]:
    spans, pos = [], 0
    for word in words:
        spans.append((pos, pos + len(word)))
        pos += len(word)
    return spans


def _overlaps(spans: list[Span], begin: int, end: int) -> bool:
    return any(b < end and begin < e for b, e in spans)


# -- places -------------------------------------------------------------------------------------


def _could_be_place(name: str, strict: bool) -> bool:
    """Single characters and loose contexts (``strict``) need a place-like or unknown word;
    otherwise anything but a function word will do."""
    cls = tagged_words().get(name)
    if strict or len(name) == 1:
        return cls == "place" or (cls is None and not word_freq(name))
    return cls != "function"


def _valid_name(name: str) -> bool:
    return (
        2 <= len(name) <= 3
        and not any(ch in NAME_STOP or not HAN.match(ch) for ch in name)
        and name not in NAME_STOPWORDS
        and name[:2] not in NAME_STOPWORDS
        and name[-2:] not in NAME_STOPWORDS
    )


def _name_before(text: str, suffix: int, tokens: list[Span]) -> str:
    """The place name right before the suffix at ``suffix`` (村, 镇 …), from word boundaries:
    我们|河湾|村 -> 河湾, 马店|镇|周营村 -> 周营, 反映|过周|郢|村 -> 周郢, 走进|村子 -> none."""
    k = next((i for i, (b, e) in enumerate(tokens) if b <= suffix < e), None)
    if k is None or suffix < 2:
        return ""
    begin, end = tokens[k]
    loose = begin == suffix and text[begin:end].startswith(LOOSE_AFTER)
    if begin < suffix:  # jieba kept name and suffix together: 周营村, 石门镇, 本村
        name = text[begin:suffix]
    elif k > 0:
        b, e = tokens[k - 1]
        name = text[b:e] if e - b <= 3 else text[e - 2 : e]
        k -= 1
    else:
        return ""
    if len(name) == 1:
        if name in BEFORE_SUFFIX_STOP:
            return ""
        b, e = tokens[k - 1] if k > 0 else (0, 0)
        if loose and e - b == 1:
            return ""  # 管|打|村里: single characters before 村里 are verbs, not a name
        if 0 < e - b <= 2:
            name = text[b:e] + name  # 柳|集乡 -> 柳集
        elif not _could_be_place(name, strict=True):
            return ""
    if not _valid_name(name) and len(name) == 3 and name[0] in NAME_STOP:
        name = name[1:]  # 过周郢 -> 周郢
    if not _valid_name(name) or not _could_be_place(name, strict=loose):
        return ""  # 宴请村民, 时候村干部, 未经村委会
    return name


# Normalised text has ASCII ,!?;: (NFKC) but keeps 。 and 、.
_BARE_NAME_RE = re.compile(
    r"(?:(?:俺|我|咱)们?是?|[。、,!?;:\s]|^)([\u4e00-\u9fff]{2,3}?)(?:的[。、,!?;:\s]|的$|那|这)"
)
_SURNAME_TAIL_RE = re.compile(f"{SURNAME_CLASS}[{VILLAGE_TAIL}]")
_KNOWN_NAME_CONTEXT = re.compile(r"(俺|我|咱|们|是)$")


def _admin_mentions(
    text: str, tokens: list[Span], lexicon: Lexicon | None
) -> tuple[list[Mention], list[Span]]:
    """Townships and villages, with their spans (objects are not read inside them)."""
    found: list[Mention] = []
    spans: list[Span] = []

    def add(kind: str, name: str, begin: int, end: int) -> None:
        if not _overlaps(spans, begin, end):
            spans.append((begin, end))
            found.append(Mention(kind, name, sound_key(name[-2:])))

    for kind, suffixes in (("township", TOWNSHIP_SUFFIXES), ("village", VILLAGE_SUFFIXES)):
        for match in re.finditer("|".join(map(re.escape, suffixes)), text):
            after = text[match.end() : match.end() + 1]
            if (kind == "township" and after in ("镇", "村")) or after in ("级", "规", "容"):
                continue  # 乡镇, 乡村, 镇村, 村级
            name = _name_before(text, match.start(), tokens)
            if name:
                add(kind, name, match.start() - len(name), match.end())
    for match in _SURNAME_TAIL_RE.finditer(text):  # 李庄的, 杨营通组路
        add("village", match.group(), match.start(), match.end())
    for match in _BARE_NAME_RE.finditer(text):  # 俺是大兴的, 俺们白马那个
        name = match.group(1)
        if _valid_name(name) and _could_be_place(name, strict=True):
            add("village", name, match.start(1), match.end(1))
    if lexicon:
        for kind, names in (("village", lexicon.villages), ("township", lexicon.townships)):
            if not names:
                continue
            for n in (3, 2):
                for i in range(len(text) - n + 1):
                    name = text[i : i + n]
                    if name in names and (
                        word_freq(name) < 100 or _KNOWN_NAME_CONTEXT.search(text[max(0, i - 2) : i])
                    ):
                        add(kind, name, i, i + n)
    return found, spans


_GROUP_RE = re.compile(r"第?(\d{1,2})(?:个)?(?:村民|生产)?小?(?:组|队)")


def _group_mentions(text: str) -> list[Mention]:
    return [
        Mention("group", f"{int(m.group(1))}组", f"g{int(m.group(1))}")
        for m in _GROUP_RE.finditer(text)
        if 0 < int(m.group(1)) < 40
    ]


# -- people -------------------------------------------------------------------------------------

_SURNAME_SOUNDS = frozenset(fuzzy_syllable(syllable(ch)) for ch in SURNAMES)


def _sounds_like_surname(ch: str) -> bool:
    """流 before 主任 in a phone transcript is 刘."""
    return (
        HAN.match(ch) is not None
        and ch not in GIVEN_STOP
        and ch not in NOT_SURNAME
        and fuzzy_syllable(syllable(ch)) in _SURNAME_SOUNDS
    )


def _person(name: str, role: str) -> Mention:
    return Mention("person", name, sound_key(name), role)


def _name_like(name: str) -> bool:
    return (
        name[0] in SURNAMES
        and name[0] not in AMBIGUOUS_SURNAMES
        and all(HAN.match(ch) and ch not in GIVEN_STOP for ch in name[1:])
        and not word_freq(name)
        and not word_freq(name[1:])
    )


def _unknown_names(words: list[str]) -> list[tuple[int, str]]:
    """(offset, name) of three-character names made of words the dictionary lacks."""
    out, pos = [], 0
    for i, word in enumerate(words):
        if len(word) == 3 and _name_like(word):
            out.append((pos, word))
        elif len(word) == 1 and i + 2 < len(words) and len(words[i + 1]) == len(words[i + 2]) == 1:
            name = word + words[i + 1] + words[i + 2]
            before = words[i - 1] if i else ""
            after = words[i + 3] if i + 3 < len(words) else ""
            # Where a longer run of single characters leaves the boundary unclear, the characters
            # around the name must be function words (叫|周|德|海|弄, 组长|马|广|才|把).
            clear = all(len(w) != 1 or not HAN.match(w) or w in GIVEN_STOP for w in (before, after))
            if clear and _name_like(name):
                out.append((pos, name))
        pos += len(word)
    return out


def _person_mentions(
    text: str, words: list[str], lexicon: Lexicon | None, places: list[Span]
) -> list[Mention]:
    out: list[Mention] = []
    taken: list[Span] = list(places)

    def add(mention: Mention, begin: int, end: int) -> None:
        if not _overlaps(taken, begin, end):
            taken.append((begin, end))
            out.append(mention)

    for match in TITLE_RE.finditer(text):
        role = TITLES[match.group()]
        p, q = match.start(), match.end()
        # Title, then the full name: 主任刘长贵, 会计刘洪的同学.
        if q < len(text) and text[q] in SURNAMES and not TITLE_RE.match(text, q + 1):
            given = ""
            for ch in text[q + 1 : q + 3]:
                if not HAN.match(ch) or ch in GIVEN_STOP:
                    break
                given += ch
            name = text[q] + given
            if given and (len(name) == 3 or not word_freq(name)):  # not 会计张嘴
                add(_person(name, role), q, q + len(name))
                continue
        if role == "resident":
            continue
        # Surname right before the title: 刘主任; a sound-alike only for officials (流主任).
        before = text[p - 1] if p >= 1 else ""
        if before and (
            before in SURNAMES or (role in OFFICIAL_ROLES and _sounds_like_surname(before))
        ):
            add(_person(text[p - 1], role), p - 1, q)
            continue
        # Full name before the title: 刘长贵书记.
        for n in (3, 2):
            cand = text[p - n : p] if p >= n else ""
            if cand and cand[0] in SURNAMES and not any(ch in GIVEN_STOP for ch in cand[1:]):
                add(_person(cand, role), p - n, q)
                break
    # 姓刘的, 会计姓赵, 姓孙的会计 (not 老百姓, 姓名).
    for match in re.finditer(r"(?<![百贵])姓(?!名)([\u4e00-\u9fff])", text):
        before = TITLE_RE.search(text[max(0, match.start() - 5) : match.start()] + "$")
        after = (
            TITLE_RE.match(text, match.end() + 1)
            if text[match.end() : match.end() + 1] == "的"
            else None
        )
        title = after or before
        add(
            _person(match.group(1), TITLES[title.group()] if title else ""),
            match.start(),
            match.end(),
        )
    # 王某 in formal petitions.
    for match in re.finditer(f"({SURNAME_CLASS})某(?!某)", text):
        add(_person(match.group(1), ""), match.start(), match.end())
    # Names the dictionary does not know: jieba leaves them as single characters (周|德|海) or,
    # with its HMM, one unknown word (王德福).
    for begin, name in _unknown_names(words):
        add(_person(name, ""), begin, begin + 3)
    if lexicon and lexicon.persons:
        for i in range(len(text) - 2):
            if text[i : i + 3] in lexicon.persons:
                add(_person(text[i : i + 3], ""), i, i + 3)
    return out


# -- objects ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _first_sounds() -> frozenset[str]:
    return frozenset(seq[0] for seq in object_tables()[0])


def _object_mentions(text: str, masked: list[Span]) -> list[Mention]:
    """Objects by sound, with at least half the characters as written: 大堂 is 大塘 and 光福电站
    is 光伏电站, while 领低(保) is not 林地."""
    by_sound, by_char, longest = object_tables()
    chars = list(text)
    for b, e in masked:
        chars[b:e] = "#" * (e - b)
    syls = sounds("".join(chars))
    firsts = _first_sounds()
    found: dict[str, Mention] = {}
    i = 0
    while i < len(chars):
        hit: tuple[tuple[str, ...], int] | None = None
        for n in range(min(longest, len(chars) - i), 1, -1) if syls[i] in firsts else ():
            seq = tuple(syls[i : i + n])
            entry = by_sound.get(seq) if "" not in seq else None
            if entry and 2 * sum(map(str.__eq__, chars[i : i + n], entry[0])) >= n:
                hit = (entry[1], n)
                break
        if hit is None and chars[i] in by_char:
            hit = (by_char[chars[i]], 1)
        if hit is None:
            i += 1
            continue
        kinds, n = hit
        written = "".join(chars[i : i + n])
        for kind in kinds:
            found.setdefault(kind, Mention("object", written, kind, OBJECT_FAMILY_OF[kind]))
        i += n
    return list(found.values())


# -- amounts and years --------------------------------------------------------------------------

_AMOUNT_RE = re.compile(
    r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百千万]+)(多|余|来)?([万千])?"
    r"([一二两三四五六七八九])?(多|余)?(元|块)?"
)
_MONEY_VERBS = frozenset("扣给发交收要赔补罚欠花送付退")
_NOT_MONEY_AFTER = frozenset("亩年人户个岁米天月号组次斤票间层口遍趟辆只台家届公厘平方吨度")


def _to_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _amount_mentions(text: str) -> list[Mention]:
    """Sums of money in yuan: 3000块, 三万九, 8.6万元, 80多万, 一万二, 每亩扣3000."""
    out: dict[int, Mention] = {}
    for match in _AMOUNT_RE.finditer(text):
        number, more, unit, tail, more_after, currency = match.groups()
        value = _to_number(number)
        if value is None:
            continue
        after = text[match.end() : match.end() + 1]
        before = text[match.start() - 1] if match.start() else ""
        money_like = (
            bool(unit)
            or any(ch in "千万" for ch in number)
            or (value >= 1000 and bool(more or more_after))  # 80000多
            or before in _MONEY_VERBS
        )
        if not currency and (not money_like or after in _NOT_MONEY_AFTER):
            continue
        scale = {"万": 10000, "千": 1000}.get(unit or "", 1)
        value *= scale
        if tail and scale > 1:
            value += (_to_number(tail) or 0) * scale / 10  # 一万二 = 12000, 两千五 = 2500
        if value >= 10:
            yuan = round(value)
            out.setdefault(yuan, Mention("amount", match.group(), str(yuan)))
    return list(out.values())


_YEAR_RE = re.compile(r"((?:19|20)\d{2})年")
_RELATIVE_YEARS = {"今年": 0, "去年": -1, "前年": -2, "大前年": -3}
_AGE_AFTER = re.compile(r"[\d零一二两三四五六七八九十]+(?![\d零一二两三四五六七八九十]*[月年])")


def _year_mentions(text: str, received: date | None) -> list[Mention]:
    years: dict[int, str] = {}
    for match in _YEAR_RE.finditer(text):
        years.setdefault(int(match.group(1)), match.group())
    if received is not None:
        for match in re.finditer("大前年|前年|去年|今年", text):
            word = match.group()
            if word == "前年" and match.start() > 0 and text[match.start() - 1] == "大":
                continue
            if word == "今年" and _AGE_AFTER.match(text, match.end()):
                continue  # 今年七十六了: an age, not the year of the event
            years.setdefault(received.year + _RELATIVE_YEARS[word], word)
    return [Mention("year", label, str(y)) for y, label in years.items()]


def stated_years(entities: Entities) -> set[int]:
    """Years written as numbers (2021年), not worked out from 去年 or 今年."""
    return {int(m.key) for m in entities.of("year") if m.text[:1].isdigit()}


# -- entry points -------------------------------------------------------------------------------


def extract_entities(
    text: str,
    received: date | None = None,
    lexicon: Lexicon | None = None,
    *,
    normalized: bool = False,
    words: list[str] | None = None,
) -> Entities:
    """Places, people, objects, amounts and years named in one complaint. ``received`` resolves
    去年/今年; ``lexicon`` adds names learned from earlier complaints; ``words`` are the jieba
    words of the normalised text when the caller has them already."""
    norm = text if normalized else normalize_text(text)
    words = words if words is not None else tokenize(norm)
    admin, spans = _admin_mentions(norm, _spans(words), lexicon)
    mentions = [
        *admin,
        *_group_mentions(norm),
        *_person_mentions(norm, words, lexicon, spans),
        *_object_mentions(norm, spans),
        *_amount_mentions(norm),
        *_year_mentions(norm, received),
    ]
    unique: dict[tuple[str, str], Mention] = {}
    for m in mentions:
        unique.setdefault((m.kind, m.key), m)
    return Entities(tuple(unique.values()))


def content_words(words: Iterable[str]) -> list[str]:
    """The words that may carry a complaint's particulars (儿媳妇, 小卖部, 冰雹): Han words of two
    or more characters that are not the hotline's stock phrases."""
    return [
        w
        for w in words
        if len(w) >= 2 and w not in STOPWORDS and w not in TITLES and all(HAN.match(ch) for ch in w)
    ]
