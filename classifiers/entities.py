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
    OBJECT_WORDS,
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
from classifiers.places import Gazetteer, load_gazetteer
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


# Words around a bare gazetteer name that say it is said as a place: 在梨园, 梨园那边, 俺是梨园的.
_PLACE_BEFORE = re.compile(r"(?:在|住|是|到|去|们|咱|俺|我|从|属于|就是|那个|这个)$")
_PLACE_AFTER = re.compile(r"^(?:那边|那里|那儿|那块|这边|这里|那|的|人|组|队|片|庄子|\d+组)")


@lru_cache(maxsize=1)
def _default_gazetteer() -> Gazetteer | None:
    try:
        return load_gazetteer()
    except (OSError, ValueError, KeyError, TypeError):  # no or a broken gazetteer: do without
        return None


def _gazetteer_names(gazetteer: Gazetteer) -> list[tuple[str, str, str]]:
    """(spelling, kind, canonical name) of every township and village, longest first."""
    return [
        (spelling, "village" if hasattr(place, "groups") else "township", place.name)
        for spelling, place in gazetteer._names
    ]


def _strip_admin(name: str) -> str:
    return re.sub(r"(村民委员会|村委会|居委会|村|社区|街道|镇|乡)$", "", name) or name


def _place_key(kind: str, name: str, canonical: str, gazetteer: Gazetteer | None) -> str:
    """The key two mentions of one place share. A place of the county's gazetteer keys as its
    whole name, found also by sound (张家完 is 张家湾, and 王家湾 is another village); any other
    as the sound of its last two characters (过周郢 and 周郢 are one)."""
    if not canonical and gazetteer is not None:
        for size in range(len(name), 1, -1):
            tail = name[-size:]
            if kind == "village":
                heard = gazetteer.villages_sounding(tail)
                if len(heard) == 1:
                    canonical = _strip_admin(heard[0].name)
            elif township := gazetteer.township_sounding(tail):
                canonical = _strip_admin(township.name)
            if canonical:
                break
    return "@" + sound_key(canonical) if canonical else sound_key(name[-2:])


def _admin_mentions(
    text: str, tokens: list[Span], lexicon: Lexicon | None, gazetteer: Gazetteer | None = None
) -> tuple[list[Mention], list[Span]]:
    """Townships and villages, with their spans (objects are not read inside them)."""
    found: list[Mention] = []
    spans: list[Span] = []

    def add(kind: str, name: str, begin: int, end: int, canonical: str = "") -> None:
        if not _overlaps(spans, begin, end):
            spans.append((begin, end))
            found.append(Mention(kind, name, _place_key(kind, name, canonical, gazetteer)))

    # The county's own names first: an alias (梨园, 干岔河) keys as the village it names. A bare
    # name counts where it is said as a place, or where it is no everyday word.
    for spelling, kind, canonical in _gazetteer_names(gazetteer) if gazetteer else ():
        for match in re.finditer(re.escape(spelling), text):
            begin, end = match.span()
            bare = _strip_admin(spelling) == spelling
            if bare and not (
                _PLACE_BEFORE.search(text[max(0, begin - 2) : begin])
                or _PLACE_AFTER.match(text[end : end + 3])
                or (word_freq(spelling) == 0 and tagged_words().get(spelling) != "function")
            ):
                continue
            add(kind, _strip_admin(spelling), begin, end, _strip_admin(canonical))
    # Misheard before 村/镇/乡 (张家完村, 宋刚村, 杭步镇): the gazetteer's place that sounds alike.
    if gazetteer is not None:
        for match in re.finditer("村|社区|镇|乡", text):
            kind = "village" if match.group() in ("村", "社区") else "township"
            at = match.start()
            for size in (4, 3, 2):
                said = text[at - size : at] if at >= size else ""
                if not said or not all(HAN.match(c) for c in said):
                    continue
                if kind == "village":
                    heard = gazetteer.villages_sounding(said)
                    canonical = heard[0].name if len(heard) == 1 else ""
                else:
                    township = gazetteer.township_sounding(said)
                    canonical = township.name if township else ""
                if canonical:
                    add(kind, said, at - size, match.end(), _strip_admin(canonical))
                    break

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
        if name in OBJECT_WORDS:
            continue  # 后山那一大片: a hill, not a village
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


_GROUP_RE = re.compile(
    r"第?(\d{1,2}|[一二三四五六七八九十]{1,3})(?:个)?(?:村民|生产)?小?(?:组|队)(?!长)"
)


def _group_mentions(text: str) -> list[Mention]:
    """四组, 第4组, 第四村民组, 三队 (the number normalised: 4组 and 四组 are one group)."""
    out = []
    for m in _GROUP_RE.finditer(text):
        number = _to_number(m.group(1))
        if number is not None and 0 < number < 40 and number == int(number):
            out.append(Mention("group", f"{int(number)}组", f"g{int(number)}"))
    return out


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
        and not (len(name) == 3 and name[0] == name[2])  # 查一查, 问了问: a verb said twice
        and name[0] not in AMBIGUOUS_SURNAMES
        and all(HAN.match(ch) and ch not in GIVEN_STOP for ch in name[1:])
        and not word_freq(name)
        and not word_freq(name[1:])
    )


# After a name, 家 is the family (汪家福家前年盖的), not the end of a longer word.
_AFTER_NAME = frozenset("家")
_PLACE_END = frozenset("村镇乡区县市组队庄")
_GIVEN_WORD_MAX_FREQ = 3000  # 向东 (1037) is a name after 李; 建设 (26381) never is


def _given_name_word(word: str) -> bool:
    """A dictionary word that is a given name after a surname: jieba cuts 陈|桂兰 and 李|向东,
    and tags the second part as a name or place; common words (大家, 河村) are not."""
    return (
        len(word) == 2
        and all(HAN.match(ch) for ch in word)
        and word[-1] not in _PLACE_END
        and word not in STOPWORDS
        and word not in TITLES
        and tagged_words().get(word) == "place"
        and word_freq(word) < _GIVEN_WORD_MAX_FREQ
    )


def _ends_name(word: str, also: frozenset[str] = frozenset()) -> bool:
    """Whether ``word`` next to three single characters leaves them a name of their own."""
    return len(word) != 1 or not HAN.match(word) or word in GIVEN_STOP or word in also


def _unknown_names(words: list[str]) -> list[tuple[int, str]]:
    """(offset, name) of three-character names made of words the dictionary lacks, or of a
    surname and a dictionary word that is a given name (陈|桂兰)."""
    out, pos = [], 0
    for i, word in enumerate(words):
        if len(word) == 3 and _name_like(word):
            out.append((pos, word))
        elif (
            len(word) == 1
            and word in SURNAMES
            and word not in AMBIGUOUS_SURNAMES
            and i + 1 < len(words)
            and _given_name_word(words[i + 1])
        ):
            out.append((pos, word + words[i + 1]))
        elif len(word) == 1 and i + 2 < len(words) and len(words[i + 1]) == len(words[i + 2]) == 1:
            name = word + words[i + 1] + words[i + 2]
            before = words[i - 1] if i else ""
            after = words[i + 3] if i + 3 < len(words) else ""
            # Where a longer run of single characters leaves the boundary unclear, the characters
            # around the name must be function words (叫|周|德|海|弄, 组长|马|广|才|把).
            clear = _ends_name(before) and _ends_name(after, _AFTER_NAME)
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
            before in SURNAMES
            or (
                role in OFFICIAL_ROLES
                and _sounds_like_surname(before)
                and not word_freq(text[p - 2 : p])  # 举报村主任: the end of a word, not 鲍
            )
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
    # A family named by its surname, as neighbours say: 老何家, 老何他, 汪家那楼房, 孙家侄子.
    for match in re.finditer(
        f"老({SURNAME_CLASS})(?=家|头|那|这|他|的|说)|(?<![老大国人自全专])({SURNAME_CLASS})家"
        "(?=的|那|这|小子|儿子|闺女|女儿|媳妇|侄子|外甥|女婿|兄弟|亲戚|老[大二三四五]|人)",
        text,
    ):
        surname = match.group(1) or match.group(2)
        if surname not in AMBIGUOUS_SURNAMES:
            add(_person(surname, ""), match.start(), match.end())
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


# -- relatives of an official ------------------------------------------------------------------

# How residents name a cadre's relative, and who that is (弟媳, 弟媳妇 and 兄弟媳妇 are one).
_RELATIONS = {
    "儿子": "son",
    "小子": "son",
    "闺女": "daughter",
    "女儿": "daughter",
    "儿媳妇": "daughter_in_law",
    "儿媳": "daughter_in_law",
    "兄弟媳妇": "brother_wife",
    "弟媳妇": "brother_wife",
    "弟媳": "brother_wife",
    "侄子": "nephew",
    "侄儿": "nephew",
    "外甥": "nephew",
    "小舅子": "wife_brother",
    "舅子": "wife_brother",
    "老婆": "wife",
    "媳妇": "wife",
    "爱人": "wife",
    "女婿": "son_in_law",
    "表弟": "cousin",
    "表哥": "cousin",
    "表兄": "cousin",
    "堂弟": "cousin",
    "堂哥": "cousin",
    "连襟": "wife_sister_husband",
    "姐夫": "sister_husband",
    "妹夫": "sister_husband",
    "亲家": "in_law",
    "哥哥": "brother",
    "弟弟": "brother",
    "兄弟": "brother",
    "亲哥": "brother",
    "亲弟": "brother",
    "哥": "brother",
    "弟": "brother",
}
_RELATION_ALT = "|".join(sorted(map(re.escape, _RELATIONS), key=len, reverse=True))
_TITLE_ALT = TITLE_RE.pattern
_RELATIVE_AFTER = re.compile(
    f"({_TITLE_ALT})(?:{SURNAME_CLASS}[\u4e00-\u9fff]{{1,2}}?)?"
    f"(?:他家的|家的|他的|他|家|的)?({_RELATION_ALT})"
)
_RELATIVE_BEFORE = re.compile(
    f"({_RELATION_ALT})(?:是|当)(?:咱|俺|我们|村里的|村里|村)?({_TITLE_ALT})"
)


def _relative_mentions(text: str) -> list[Mention]:
    """A relative of an official, who a report may name instead of the official: 书记儿子,
    周书记他弟媳妇, 支书弟媳, 他哥是村主任. The key is office and relation; two different ones
    (the secretary's son, the director's nephew) are two matters."""
    out: dict[str, Mention] = {}
    for match in _RELATIVE_AFTER.finditer(text):
        title, relation = match.group(1), match.group(2)
        role = TITLES[title]
        if role in OFFICIAL_ROLES or role == "candidate":
            key = f"{role}>{_RELATIONS[relation]}"
            out.setdefault(key, Mention("object", match.group(), key, "relative"))
    for match in _RELATIVE_BEFORE.finditer(text):
        relation, title = match.group(1), match.group(2)
        role = TITLES[title]
        if role in OFFICIAL_ROLES or role == "candidate":
            key = f"{role}>{_RELATIONS[relation]}"
            out.setdefault(key, Mention("object", match.group(), key, "relative"))
    return list(out.values())


# -- organisations ------------------------------------------------------------------------------

# What ends an organisation's name: 大成养殖专业合作社, 恒达建筑有限公司, 绿源农业开发公司.
_ORG_SUFFIX_RE = re.compile(r"有限责任公司|有限公司|专业合作社|合作社|公司|集团|工程队|施工队")


# Words that say what kind of business it is, not which: skipped to reach the name (恒达).
def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ORG_GENERIC = _word_set(
    """养殖 种植 专业 农业 农民 建筑 建设 工程 劳务 开发 发展 科技 生态 旅游 贸易 食品 农副产品
    水产 果蔬 蔬菜 水果 苗木 花卉 畜牧 土地 股份 经济 合作 服务 物业 运输 物流 环保 光伏 新能源
    能源 电力 实业 投资 置业 房地产 商贸 加工 机械 农机 家庭 农场 有限 责任 专业户 村集体 集体"""
)
_ORG_NOT_NAME = _word_set(
    """那个 这个 一个 哪个 那家 这家 一家 什么 俺们 我们 咱们 他们 村里 村上 镇上 县里 他家 自己
    外地 外面 本地 私人 个人 开发商 老板 包工头 村干部 干部 的 了 在 是 给 被 把 和 跟 说 让"""
)

# Words that hand something to a firm: the name starts after them (流转给|绿源茶叶合作社).
_ORG_BEFORE = _word_set(
    "流转 承包 发包 租给 包给 交给 卖给 转给 转包 外包 找来 请来 介绍 叫 由 被 归 让 给"
)


# A payment is not a firm's name: 土地流转费合作社 is the cooperative of the 流转费, unnamed.
_PAYMENT_ENDS = ("费", "钱", "款", "金", "租")


def _org_mentions(
    text: str, words: list[str], spans: list[Span], gazetteer: Gazetteer | None = None
) -> list[Mention]:
    """Companies and cooperatives by their own name, an anchor as strong as a place: a report may
    name the contractor and no village. The name is the words right before 公司/合作社 back to a
    function word or verb, less a leading place name; its first two characters are the brand
    (绿源茶叶合作社, 春秋绿源合作社 and 那个绿源合作社 are one), keyed by sound (恒大 is 恒达)."""
    out: list[Mention] = []
    word_spans = _spans(words)
    place_names = {n for n, _, _ in _gazetteer_names(gazetteer)} if gazetteer else set()
    for match in _ORG_SUFFIX_RE.finditer(text):
        k = next((i for i, (b, e) in enumerate(word_spans) if b <= match.start() < e), None)
        if k is None or word_spans[k][0] != match.start():
            continue
        parts: list[str] = []
        k -= 1
        while k >= 0 and sum(map(len, parts)) < 8:
            word = words[k]
            if (
                not all(HAN.match(c) for c in word)
                or (len(word) == 1 and word in GIVEN_STOP)
                or word in _ORG_NOT_NAME
                or word in STOPWORDS
                or word in _ORG_BEFORE
                or word.endswith(_PAYMENT_ENDS)
            ):
                break
            parts.insert(0, word)
            k -= 1
        while parts and (parts[0] in place_names or parts[0] in _ORG_GENERIC):
            parts.pop(0)  # 春秋|绿源: the township is not the firm's name
        name = "".join(parts)
        while name and name[:2] in _ORG_GENERIC:
            name = name[2:]
        if len(name) < 2 or any(ch in NAME_STOP for ch in name[:2]) or name[:2] in TITLES:
            continue
        brand = name[:2]
        begin = text.find(name, max(0, match.start() - len(name) - 8), match.start())
        if begin >= 0 and _overlaps(spans, begin, begin + 2):
            continue  # 桃园村合作社: the village is already the anchor
        out.append(Mention("object", brand, sound_key(brand), "org"))
    return out


# -- amounts and years --------------------------------------------------------------------------

_AMOUNT_RE = re.compile(
    r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百千万]+)(多|余|来)?([万千])?"
    r"([1-9一二两三四五六七八九](?![\d万千百十]))?(多|余)?(元|块)?"
    r"([1-9一二两三四五六七八九](?![\d万千百十元块]))?"
)
_MONEY_VERBS = frozenset("扣给发交收要赔补罚欠花送付退")
# A sum per unit is money even without 元 or 块: 一亩260, 一家二百, 每人120.
_PER_UNIT_BEFORE = re.compile(r"(?:[1一每]|一个|每个)(?:亩|户|家|人|股)$")
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


def _money_like(text: str, match: re.Match, value: float) -> bool:
    """Whether a number without 元 or 块 is a sum: 3万, 80000多, 扣3000, 一亩260."""
    number, more, unit, _, more_after, _, _ = match.groups()
    before = text[match.start() - 1] if match.start() else ""
    after = text[match.end() : match.end() + 1]
    return (
        after not in _NOT_MONEY_AFTER
        and (
            bool(unit)
            or any(ch in "千万" for ch in number)
            or (value >= 1000 and bool(more or more_after))  # 80000多
            or before in _MONEY_VERBS
            or _PER_UNIT_BEFORE.search(text[max(0, match.start() - 3) : match.start()]) is not None
        )
    )


def _amount_mentions(text: str) -> list[Mention]:
    """Sums of money in yuan: 3000块, 三万九, 4万2, 8.6万元, 80多万, 一万二, 每亩扣3000, 15块5.
    A sum said roughly (一万多, 六百多块, 三百来块) keys negated: ``amount_range`` reads it as
    10000–20000, not as exactly 10000."""
    out: dict[int, Mention] = {}
    for match in _AMOUNT_RE.finditer(text):
        number, more, unit, tail, more_after, currency, jiao = match.groups()
        value = _to_number(number)
        if value is None or (not currency and not _money_like(text, match, value)):
            continue
        scale = {"万": 10000, "千": 1000}.get(unit or "", 1)
        value *= scale
        if tail and scale > 1:
            value += (_to_number(tail) or 0) * scale / 10  # 一万二 = 12000, 4万2 = 42000
        if jiao and currency == "块":
            value += (_to_number(jiao) or 0) / 10  # 15块5 = 15.5
        if value >= (1 if currency else 10):
            yuan = int(value + 0.5)
            key = -yuan if (more or more_after) else yuan
            out.setdefault(key, Mention("amount", match.group(), str(key)))
    return list(out.values())


def amount_range(key: int) -> tuple[float, float]:
    """The sums an amount key stands for: about the sum itself (within 5%), or for one said
    roughly (negated key: 一万多, 六百多) from it up to one more of its leading unit."""
    if key >= 0:
        return key * 0.95, key * 1.05
    low = -key
    lead = 10 ** (len(str(low)) - 1)
    return low, low + lead


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


_DEFAULT = object()


def extract_entities(
    text: str,
    received: date | None = None,
    lexicon: Lexicon | None = None,
    *,
    normalized: bool = False,
    words: list[str] | None = None,
    gazetteer: Gazetteer | object | None = _DEFAULT,
) -> Entities:
    """Places, people, objects, amounts and years named in one complaint. ``received`` resolves
    去年/今年; ``lexicon`` adds names learned from earlier complaints; ``words`` are the jieba
    words of the normalised text when the caller has them already; ``gazetteer`` is the county's
    list of places (default ``config/places.yml``; None: without)."""
    norm = text if normalized else normalize_text(text)
    words = words if words is not None else tokenize(norm)
    places = _default_gazetteer() if gazetteer is _DEFAULT else gazetteer
    assert places is None or isinstance(places, Gazetteer)
    admin, spans = _admin_mentions(norm, _spans(words), lexicon, places)
    mentions = [
        *admin,
        *_group_mentions(norm),
        *_person_mentions(norm, words, lexicon, spans),
        *_object_mentions(norm, spans),
        *_org_mentions(norm, words, spans, places),
        *_relative_mentions(norm),
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
