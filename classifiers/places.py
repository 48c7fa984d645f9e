"""The county's gazetteer (`config/places.yml`) and matching what residents say against it.

Residents name a village in many ways: 河湾村, 河湾, 俺是河湾的, 城关镇河湾村四组, and speech
recognition writes 和湾村 for it. Matching compares fuzzy pinyin keys (``sound_key``), so a
misheard name still finds its village, and a bare short name counts only where it is said as a
place (an answer to "哪个村", or 在/住/是 … 那边/的): 光明 in 光明正大 is no village.

Everything here is pure; the file is read once by ``load_gazetteer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from classifiers.cluster_vocab import sound_key

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "places.yml"

_CN_DIGITS = "一二三四五六七八九十"
_CN_NUMBER = {ch: i for i, ch in enumerate("零一二三四五六七八九十", start=0)}
_GROUP = re.compile(r"(?:第)?([一二三四五六七八九十\d]{1,3})(?:村民)?(?:组|队|小组)")
_TAIL_WORD = re.compile(r"\s([\u4e00-\u9fff]{2,4})$")
# "俺们五组好几户都这样": the resident's own group, said in a story before any village.
_OWN_GROUP = re.compile(
    r"(?:俺|我|咱)(?:们|家)?(?:是|在)?(?:第)?[一二三四五六七八九十\d]{1,3}(?:村民)?(?:组|队|小组)"
)
# 村 of 村长/村委/村里… starts a word of its own: 低保村长 holds no village 低保村.
_SUFFIXED = re.compile(
    r"([\u4e00-\u9fa5]{2,5}?)(村|社区)"
    r"(?!长|主任|委|里|干部|支书|书记|会计|两委|集体|级|务|规|官|医|头|上)"
)
_TOWNSHIP_SUFFIXED = re.compile(r"([\u4e00-\u9fa5]{2,4}?)(镇|乡|街道)")
# In free text a village we do not know counts only where it is introduced as a place
# (俺是青龙村的, 家住凤凰岭村): "两年一直没发村上说" names no village.
_INTRODUCED = re.compile(
    r"(?:是|在|住|自|于|们|咱|俺|映|报)([\u4e00-\u9fa5]{2,7}?)(村|社区)"
    r"(?!长|主任|委|里|干部|支书|书记|会计|两委|集体|级|务|规|官|医|上|头|部|子)"
)
_INTRODUCED_BARE = re.compile(r"(?:我们|俺们|咱们|我是|俺是|住在|家在)([\u4e00-\u9fa5]{3,4})")
# Words around a bare name that say it is a place: 在梨园, 俺是梨园的, 梨园那边.
_BEFORE_PLACE = re.compile(r"(?:在|住|是|到|去|们|咱|俺|我|从|属于|就是|镇|乡|叫|名叫|叫做)$")
# 嘞/哩/咧/滴 are 的 in Henan, Shandong, Sichuan speech: 王家湾嘞.
_AFTER_PLACE = re.compile(
    r"^(?:那边|那里|那儿|那块|这边|这里|那|的|嘞|哩|咧|滴|人|组|队|片|庄子|"
    r"[\d一二三四五六七八九十]{1,2}(?:组|队))"  # "杨店4组"
)
_SAID_TWICE = re.compile(r"([\u4e00-\u9fa5]{2,3})\s+\1")
_FILLER = re.compile(r"[\s，。,.!！?？、~…：:；;“”\"'（）()]+")
_ANSWER_NOISE = re.compile(
    # "我妈是章家湾的": a relative's village, said for them
    r"^(?:我们|俺们|咱们|我|俺|咱|就)?(?:妈|爸|爹|娘|家|老家|父母|爷爷|奶奶|外公|外婆|老人)?"
    r"(?:是|在|住在|住|家在|家住|属于)?|"
    r"(?:的|嘞|哩|咧|滴|的人|那边|那里|这边|村民|人|啊|呀|吧|哈|嘛|呢)+$"
)


@dataclass(frozen=True, slots=True)
class Village:
    name: str
    township: str
    aliases: tuple[str, ...]
    groups: int


@dataclass(frozen=True, slots=True)
class Township:
    name: str
    aliases: tuple[str, ...]
    villages: tuple[Village, ...]


@dataclass(frozen=True, slots=True)
class Place:
    """What a message says about where: the gazetteer's names when known, else as said."""

    township: str | None = None
    village: str | None = None
    group: str | None = None  # "四组"
    known: bool = False  # the village is in the gazetteer
    said: str = ""  # the words that named it

    @property
    def label(self) -> str:
        return "".join(part for part in (self.township, self.village, self.group) if part)


@dataclass(frozen=True)
class Gazetteer:
    county: str
    townships: tuple[Township, ...]
    _villages_by_key: dict[str, list[Village]] = field(default_factory=dict, repr=False)
    _townships_by_key: dict[str, Township] = field(default_factory=dict, repr=False)
    _names: tuple[tuple[str, Village | Township], ...] = field(default=(), repr=False)

    @property
    def villages(self) -> list[Village]:
        return [v for t in self.townships for v in t.villages]

    def township(self, name: str | None) -> Township | None:
        return next((t for t in self.townships if t.name == name), None)

    def village(self, name: str | None, township: str | None = None) -> Village | None:
        return next(
            (
                v
                for v in self.villages
                if v.name == name and (township is None or v.township == township)
            ),
            None,
        )

    def villages_sounding(self, words: str) -> list[Village]:
        return list(self._villages_by_key.get(sound_key(words), []))

    def township_sounding(self, words: str) -> Township | None:
        return self._townships_by_key.get(sound_key(words))

    def example_village(self, township: str | None) -> str:
        """A village to name in a question ("比如‘河湾村’"), from the resident's township."""
        chosen = self.township(township) or (self.townships[0] if self.townships else None)
        return chosen.villages[0].name if chosen and chosen.villages else "李庄村"


def _strip_suffix(name: str) -> str:
    return re.sub(r"(村|社区|居委会|镇|乡|街道)$", "", name)


def parse_gazetteer(data: dict) -> Gazetteer:
    townships = []
    for t in data.get("townships") or []:
        villages = tuple(
            Village(
                name=v["name"],
                township=t["name"],
                aliases=tuple(v.get("aliases") or ()),
                groups=int(v.get("groups") or 0),
            )
            for v in t.get("villages") or []
        )
        townships.append(Township(t["name"], tuple(t.get("aliases") or ()), villages))
    gazetteer = Gazetteer(str(data.get("county") or ""), tuple(townships))
    by_key: dict[str, list[Village]] = {}
    names: list[tuple[str, Village | Township]] = []
    for village in gazetteer.villages:
        spellings = {village.name, _strip_suffix(village.name), *village.aliases}
        for spelling in spellings:
            if len(spelling) >= 2:
                by_key.setdefault(sound_key(spelling), []).append(village)
                names.append((spelling, village))
    t_keys: dict[str, Township] = {}
    for township in gazetteer.townships:
        for spelling in {township.name, _strip_suffix(township.name), *township.aliases}:
            if len(spelling) >= 2:
                t_keys[sound_key(spelling)] = township
                names.append((spelling, township))
    for key, found in by_key.items():
        by_key[key] = list(dict.fromkeys(found))
    names.sort(key=lambda pair: (-len(pair[0]), isinstance(pair[1], Village)))
    object.__setattr__(gazetteer, "_villages_by_key", by_key)
    object.__setattr__(gazetteer, "_townships_by_key", t_keys)
    object.__setattr__(gazetteer, "_names", tuple(names))
    return gazetteer


@lru_cache(maxsize=4)
def load_gazetteer(path: Path = DEFAULT_PATH) -> Gazetteer:
    return parse_gazetteer(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})


def _group_in(text: str) -> str | None:
    match = _GROUP.search(text)
    if not match:
        return None
    raw = match.group(1)
    if raw.isdigit():
        number = int(raw)
    elif raw == "十":
        number = 10
    elif raw.startswith("十"):
        number = 10 + _CN_NUMBER.get(raw[1:], 0)
    elif raw.endswith("十"):
        number = _CN_NUMBER.get(raw[0], 0) * 10
    elif "十" in raw:
        tens, ones = raw.split("十", 1)
        number = _CN_NUMBER.get(tens, 0) * 10 + _CN_NUMBER.get(ones, 0)
    else:
        number = _CN_NUMBER.get(raw, 0)
    if not 0 < number < 100:
        return None
    digits = "零一二三四五六七八九"
    said = (
        digits[number]
        if number < 10
        else (
            ("" if number < 20 else digits[number // 10])
            + "十"
            + (digits[number % 10] if number % 10 else "")
        )
    )
    return f"{said}组"


def _set_off(raw: str, spelling: str) -> bool:
    """A bare name standing alone in a short message ('低保不公 李庄'): a word of its own."""
    if len(raw) > 24:
        return False
    for match in re.finditer(re.escape(spelling), raw):
        before = raw[match.start() - 1] if match.start() else " "
        after = raw[match.end()] if match.end() < len(raw) else " "
        if _FILLER.match(before) and (
            _FILLER.match(after) or after in "的村组" or after.isdigit() or after in _CN_DIGITS
        ):
            return True
    return False


def _is_place_context(text: str, start: int, end: int, whole_answer: bool) -> bool:
    if whole_answer:
        return True
    return bool(_BEFORE_PLACE.search(text[max(0, start - 3) : start])) or bool(
        _AFTER_PLACE.match(text[end : end + 3])
    )


def _pick(villages: list[Village], township: Township | None) -> Village | None:
    """One village for a name: the one in the township said, or the only one there is."""
    if township is not None:
        inside = [v for v in villages if v.township == township.name]
        if inside:
            return inside[0]
    return villages[0] if len(villages) == 1 else None


def find_place(text: str, gazetteer: Gazetteer, *, answer: bool = False) -> Place | None:
    """The place a message names, or None. ``answer`` is True when the message answers "哪个村？"
    (then a bare or misheard name on its own counts). Where the resident says where they live
    and names another village besides ("我是东风村村民，现实名反映西风村的问题"), the other
    village is where the matter is."""
    home = None if answer else _RESIDENCE.search(text)
    if home is not None:
        lives = _find_place(home.group(), gazetteer)
        other = _find_place(text[: home.start()] + "，" + text[home.end() :], gazetteer)
        if lives and other and other.village and other.known and other.village != lives.village:
            return other
    return _find_place(text, gazetteer, answer=answer)


# "我是东风村村民", "俺是石岗村的", "我嫁去了王庄村": where the resident lives (or married to).
_RESIDENCE = re.compile(
    r"(?:我|俺|本人|咱)(?:们|家)?(?:就)?(?:是|家住|住在|家在|住|嫁去了?|嫁到了?)"
    r"[^，,。；;！!？?\s]{1,10}?(?:村|社区)(?:[一二三四五六七八九十\d]{1,3}组)?(?:的)?(?:村民|人)?|"
    # "我叫王建军，是桃溪镇东风村村民"
    r"(?<=[，,])是[^，,。；;！!？?\s]{1,10}?(?:村|社区)(?:[一二三四五六七八九十\d]{1,3}组)?(?:村民|居民)|"
    # "反映人吴德兵，现住城关镇东门社区，…反映老家南港镇板桥村的问题"
    r"(?<=[，,\s])(?:现|现在|目前)?(?:住|家住|住在|居住在?)[^，,。；;！!？?\s]{1,10}?(?:村|社区)"
    r"(?:[一二三四五六七八九十\d]{1,3}组)?"
)


def _find_place(text: str, gazetteer: Gazetteer, *, answer: bool = False) -> Place | None:
    text = _SAID_TWICE.sub(r"\1", text)  # "青石 青石村": a name said twice is one name
    clean = _FILLER.sub("", text)
    if not clean:
        return None
    core = _ANSWER_NOISE.sub("", clean) if answer else clean
    whole = answer and 2 <= len(core) <= 8
    township: Township | None = None
    township_said = ""
    village: Village | None = None
    said: list[str] = []
    # 1. Names spelled as in the gazetteer (longest first).
    covered: list[tuple[int, int]] = []  # a longer name found here hides the shorter ones
    for spelling, place in gazetteer._names:
        at = clean.find(spelling)
        if at < 0 or any(a <= at < b for a, b in covered):
            continue
        full_name = spelling == place.name
        if not (
            full_name
            or _is_place_context(clean, at, at + len(spelling), whole and spelling == core)
            or _set_off(text.strip(), spelling)
        ):
            continue
        if isinstance(place, Township) and township is None:
            township = place
            township_said = spelling
            said.append(spelling)
            covered.append((at, at + len(spelling)))
        elif isinstance(place, Village) and village is None:
            village = place
            said.append(spelling)
            covered.append((at, at + len(spelling)))
    # 2. Names heard wrong: X村 / X镇 tokens, or the whole answer, by their sound.
    if township is None:
        for match in _TOWNSHIP_SUFFIXED.finditer(clean):
            for size in range(len(match.group(1)), 1, -1):
                if found := gazetteer.township_sounding(match.group(1)[-size:]):
                    township = found
                    township_said = match.group(0)
                    said.append(match.group(0))
                    break
            if township:
                break
    unknown: str | None = None
    if village is None:
        spoken = re.sub(r"\s+", "", text)
        for match in _SUFFIXED.finditer(spoken):  # a misheard name of a village we know
            stem = match.group(1)
            for size in range(len(stem), 1, -1):
                candidates = gazetteer.villages_sounding(stem[-size:])
                if candidates and (chosen := _pick(candidates, township)):
                    village = chosen
                    said.append(stem[-size:] + match.group(2))
                    break
            if village:
                break
        # "我们张家弯那个高标准农田…": a name we know, heard wrong and said without 村, where it
        # is introduced as a place; three characters at least, so that chance sounds do not count.
        for match in _INTRODUCED_BARE.finditer(spoken) if village is None else ():
            for size in (4, 3):
                stem = match.group(1)[:size]
                after = spoken[match.start(1) + size : match.start(1) + size + 1]
                if len(stem) < size or after in ("镇", "乡", "街"):
                    continue  # "俺是百神庙镇的": the township of that name, not its village
                candidates = gazetteer.villages_sounding(stem)
                if candidates and (chosen := _pick(candidates, township)):
                    village = chosen
                    said.append(stem)
                    break
            if village:
                break
        # A village we do not know: only where it is said as a place (a whole short answer,
        # or introduced: "我是陈大圩村的"), never "镇上又喊回村头问" of a long answer.
        # A whole answer may be introduced too: "俺是春秋乡罗家畈村的".
        patterns = (_SUFFIXED, _INTRODUCED) if whole else (_INTRODUCED,)
        # "晓天镇老鸦冲村的": the township said first is no part of the village's name.
        rest = spoken.replace(township_said, "，") if township_said else spoken
        matches = (m for p in patterns for m in p.finditer(rest if p is _SUFFIXED else spoken))
        for match in matches:
            if village is None and (name := _clean_unknown(match.group(1))):
                name = _without_township(name, gazetteer)
                if len(name) > 4:
                    continue  # "是说好的收益年底分给大家村…": a clause, not a name
                unknown = name + match.group(2)
                break
        if unknown is None and answer and not whole:
            unknown = _named_alone(text, gazetteer)  # "蔡家岗村，乡镇我搞不清，反正就叫…"
    if village is None and answer:
        for word in [core, *re.split(r"[\s，。,.、]+", text)]:
            word = _ANSWER_NOISE.sub("", _FILLER.sub("", word))
            if not 2 <= len(word) <= 8 or any(word in s for s in said):
                continue
            candidates = gazetteer.villages_sounding(_strip_suffix(word))
            village = _pick(candidates, township) if candidates else None
            if village:
                said.append(word)
                break
    group = _group_in(clean)
    if village is not None:
        return Place(
            township=village.township,
            village=village.name,
            group=group,
            known=True,
            said="".join(said),
        )
    if unknown and len(unknown) >= 3:
        return Place(
            township=township.name if township else None,
            village=unknown,
            group=group,
            known=False,
            said=unknown,
        )
    if township is not None:
        return Place(township=township.name, group=group, said="".join(said))
    if group and (answer or _OWN_GROUP.search(clean)):
        return Place(group=group, said=group)
    # "鱼塘偷偷包给书记连襟 一年才500 没开会没公示 王家弯": a terse text's last word, set off
    # by a space, that sounds like a village of the county.
    tail = _TAIL_WORD.search(text.strip())
    if not answer and tail and len(text.strip()) <= 48:
        found = _find_place(tail.group(1), gazetteer, answer=True)
        if found is not None and found.known and found.village:
            return found
    return None


def _named_alone(text: str, gazetteer: Gazetteer) -> str | None:
    """A village we do not know, said as a clause of its own in an answer to "哪个村？"."""
    for clause in re.split(r"[\s，。,.、!！?？；;]+", text):
        core = _ANSWER_NOISE.sub("", clause)
        match = _SUFFIXED.fullmatch(core)
        if match and (name := _clean_unknown(match.group(1))):
            name = _without_township(name, gazetteer)
            if 2 <= len(name) <= 4:
                return name + match.group(2)
    return None


_NOT_NAME_HEAD = re.compile(
    r"^(?:我们|俺们|咱们|他们|们|我|俺|咱|他|是|在|住|家|的|了|给|把|被|说|跟|和|到|去|从|"
    r"反映|举报|投诉|告|那个|这个|就是|一下|关于|就叫|名叫|叫做|叫)+"
)
# Words before 村 that are no village's name: 俺们村, 本村, 全村, 隔壁村, 哪个村.
_NOT_VILLAGE = re.compile(
    r"^(?:我们|俺们|咱们|你们|他们|本|该|此|全|邻|外|隔壁|哪个|这个|那个|农|乡|山|城中|村|整个|各|"
    r"别的|别|其他|其它|附近|周边|周围|几个|好几个|每个|各个|的|"
    r"俺|我|咱|恁|你|他|她)$"  # "俺要说说俺村那个低保": 俺村 is no name
)


def _without_township(name: str, gazetteer: Gazetteer) -> str:
    """ "桃溪镇青龙" of "桃溪镇青龙村": the township said before a village we do not know is
    kept as the township, not as part of the village's name."""
    for spelling, place in gazetteer._names:
        if isinstance(place, Township) and name.startswith(spelling) and len(name) > len(spelling):
            rest = name[len(spelling) :]
            return rest[1:] if rest[0] in "镇乡" and len(rest) > 2 else rest
    return name


def _clean_unknown(stem: str) -> str | None:
    """'张家湾' of '我是张家湾' (before 村村民): drop the speech before the name; None when
    what is left names no village."""
    if _NOT_VILLAGE.match(stem) or _NOT_VILLAGE.match(stem[-2:]) or _NOT_VILLAGE.match(stem[-1:]):
        return None
    if stem.startswith("村"):
        return None  # "我们村开村民代表会议": 村 starts a clause, not a name
    cut = _NOT_NAME_HEAD.sub("", stem)
    if len(cut) < 2 or _NOT_VILLAGE.match(cut):
        return None
    return cut
