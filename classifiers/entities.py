"""What identifies an event in a complaint: places, people, projects, amounts and years.

Residents name the same thing in many ways: 李庄村 / 李庄 / 李庄的, 三组 / 第三村民组, 刘主任 /
刘长贵 / 姓刘的, and speech recognition writes 和湾村 for 河湾村 or 周营 for 周郢. Every mention
therefore carries a *key* built from toneless pinyin with the sound pairs that Jianghuai and
Anhui speakers (and recognisers trained on them) confuse folded together (zh/z, ch/c, sh/s, n/l,
-ing/-in, -eng/-en): two spellings that sound alike get the same key.

``extract_entities`` is pure; a ``Lexicon`` of names learned from earlier complaints (李庄 was seen
as 李庄村, so a bare 李庄 later is a village too) can be passed in and is only read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import cn2an

from classifiers.features import syllable
from classifiers.normalize import normalize_text
from classifiers.segment import segment, tokenizer

_HAN = re.compile(r"[\u4e00-\u9fff]")

# -- phonetic keys ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def fuzzy_syllable(syl: str) -> str:
    """Fold the sound contrasts local speech and recognisers lose: zh/z ch/c sh/s, n/l, -ing/-in,
    -eng/-en."""
    if syl[:2] in ("zh", "ch", "sh"):
        syl = syl[0] + syl[2:]
    if syl.startswith("n") and len(syl) > 1:
        syl = "l" + syl[1:]
    if syl.endswith(("ing", "eng")):
        syl = syl[:-1]
    return syl


@lru_cache(maxsize=65536)
def sound_key(text: str) -> str:
    """The fuzzy pinyin of a name or word: 河湾 and 和弯 both give ``he wan``."""
    return " ".join(fuzzy_syllable(syllable(ch)) if _HAN.match(ch) else ch for ch in text)


# -- vocabulary ---------------------------------------------------------------------------------

SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵钱严覃武戴莫孔汤常葛鲁柳殷童祝聂储桂查岳翟鲍檀凤"
)
# Title -> role. Longest first when matching. One person is often both 书记 and 主任 (一肩挑), so
# roles count only as a small extra when the surname already matches.
TITLES: dict[str, str] = {
    "党支部书记": "secretary", "党总支书记": "secretary", "总支书记": "secretary",
    "支部书记": "secretary", "村支书": "secretary", "支书": "secretary", "书记": "secretary",
    "村委会主任": "director", "村主任": "director", "主任": "director", "村长": "director",
    "会计": "accountant", "报账员": "accountant", "出纳": "accountant", "文书": "clerk",
    "专干": "clerk", "小组长": "group_leader", "组长": "group_leader", "队长": "group_leader",
    "镇长": "township_head", "乡长": "township_head", "所长": "official", "站长": "official",
    "委员": "official", "主席": "official", "网格员": "official", "包工头": "contractor",
    "老板": "contractor", "经理": "contractor", "老总": "contractor", "候选人": "candidate",
    "村医": "doctor", "老人": "resident", "老汉": "resident", "村民": "resident",
}
_TITLE_RE = re.compile("|".join(sorted(map(re.escape, TITLES), key=len, reverse=True)))

# Characters that never occur inside a place name; they mark where the name before 村/镇 begins.
_NAME_STOP = frozenset(
    "的了是在我你他她它们这那哪个与跟给从向对把被让由于为就都也还又才很太最更不没无有要会能可说"
    "问找去来到回出里之其该本各每全此某啥咋么呢吗吧啊呀哦嘛哩俺恁咱谁个村镇乡组县区市省户人家年月日号时钱款费过系经受叫"
    "，。！？、；：,.!?;: "
)
# A character right before 村/镇/乡 that makes it a common word, not a name (本村, 邻村, 农村, 回乡).
_BEFORE_SUFFIX_STOP = frozenset("本该全邻外各此每哪农乡城回进出驻包到在同隔两个这那和与小大村镇叫选找问去")
_NAME_STOPWORDS = frozenset(
    ["隔壁", "附近", "周边", "全体", "整个", "旁边", "邻近", "其他", "别的", "所在", "本地", "当地", "城中", "贫困", "行政", "自然", "示范", "美丽", "文明", "中心", "重点", "试点", "移民", "新农", "村里", "组里", "家里", "这里", "那里", "哪里", "镇上", "乡里", "县里", "城里", "外地", "老家", "俺家", "我家", "他家", "自家", "大家", "人家", "全家", "一家", "村上", "庄上", "这边", "那边", "今年", "去年", "前年", "明年", "现在", "以前", "以后", "当时", "那年", "上面", "下面", "干部", "大伙", "老百姓", "百姓", "群众", "公司", "企业", "集体"]
)
# Last characters of village names that are unmistakable after a surname: 李庄, 杨营, 张圩, 周郢.
_VILLAGE_TAIL = "庄营圩郢集寨湾岗店楼洼屯铺"
_VILLAGE_SUFFIXES = ("村民委员会", "村委会", "社区", "居委会", "村")
_TOWNSHIP_SUFFIXES = ("街道", "镇", "乡")

# What a complaint is about, beyond its item: objects and projects, the programme within the item,
# crops, causes, livestock, machines and the kind of wrongdoing. Kinds of one family conflict: a
# complaint about a road and one about a bridge in the same village are different events, and so
# are 保洁员 wages and the choice of 护林员, or 冒领 and 索要好处. Multi-character words are matched
# by sound (光福电站 is 光伏电站), single characters only as written.
OBJECT_FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "facility": {
        "pond": ("鱼塘", "水塘", "池塘", "大塘", "塘口", "当家塘", "塘坝", "水面", "塘"),
        "reservoir": ("水库",),
        "forest": ("山林", "林地", "荒山", "后山", "林子", "山场", "林场"),
        "highway": ("高速", "高速公路", "省道", "国道"),
        "road": ("水泥路", "通组路", "通村路", "村道", "道路", "公路", "马路", "主路", "路面",
                 "机耕路", "修路", "路基", "柏油路", "泥巴路", "硬化路"),
        "bridge": ("桥梁", "桥面", "桥墩", "石桥", "木桥", "漫水桥", "拱桥", "桥"),
        "water": ("自来水", "水管", "管道", "饮水", "吃水", "停水", "水压", "水井", "供水"),
        "canal": ("沟渠", "水渠", "渠道", "排灌", "渠"),
        "streetlight": ("路灯",),
        "solar": ("光伏", "光伏板", "光伏电站", "电站"),
        "brickworks": ("砖厂", "砖窑"),
        "warehouse": ("仓库", "粮站"),
        "shopfront": ("门面房", "门面"),
        "plaza": ("广场", "健身器材"),
        "school": ("学校", "小学", "中学"),
        "industrial_park": ("工业园", "开发区"),
        "farmland": ("高标准农田",),
        "farm": ("养殖场", "养鸡场", "养猪场"),
        "cooperative": ("合作社",),
        "fuel_station": ("加油站",),
        "vacant_land": ("空地", "荒地"),
        "homestead": ("宅基地",),
        "nursing_home": ("敬老院", "养老院"),
        "clinic": ("卫生室", "卫生院"),
    },
    "programme": {
        "cleaner": ("保洁员", "保洁", "扫马路", "打扫卫生"),
        "forest_ranger": ("护林员",),
        "road_keeper": ("护路员",),
        "yulu": ("雨露计划", "职高", "职校", "中职"),
        "school_meals": ("营养餐",),
        "student_aid": ("助学金", "学生资助", "贫困生补助"),
        "public_forest": ("公益林",),
        "grain_for_green": ("退耕还林",),
        "fishing_ban": ("禁捕", "退捕"),
        "health_insurance": ("医保", "参保", "医保费", "新农合", "合作医疗"),
        "medical_assistance": ("医疗救助",),
        "pension_insurance": ("养老保险",),
        "pension_benefit": ("养老金",),
        "care_subsidy": ("护理补贴",),
        "living_subsidy": ("生活补贴",),
        "monitoring": ("监测户",),
        "microcredit": ("小额信贷",),
        "old_age_allowance": ("高龄津贴", "高龄补贴"),
        "family_planning": ("独生子女", "计生"),
    },
    "livestock": {
        "sheep": ("养羊", "羊"),
        "chicken": ("养鸡", "养鸡场"),
        "pig": ("养猪", "养猪场", "生猪"),
        "cattle": ("养牛",),
        "fish": ("养鱼",),
    },
    "crop": {
        "wheat": ("小麦", "麦子"),
        "corn": ("玉米",),
        "rice": ("水稻", "稻子"),
        "grape": ("葡萄",),
    },
    "cause": {
        "hail": ("冰雹",),
        "flood": ("洪水", "发大水", "洪灾", "水灾", "淹"),
        "drought": ("旱灾", "干旱", "受旱", "旱"),
        "fire": ("火灾", "着火", "失火"),
        "pest": ("虫灾",),
        "illness": ("重病", "大病", "白血病", "癌症", "尿毒症"),
        "accident": ("车祸",),
    },
    "machine": {
        "harvester": ("收割机",),
        "tiller": ("旋耕机",),
        "tractor": ("拖拉机",),
        "transplanter": ("插秧机",),
        "excavator": ("挖掘机",),
    },
    "matter": {
        "election": ("换届", "选举", "贿选", "拉票", "买票", "选票", "投票", "候选人"),
        "party_membership": ("入党", "发展党员", "预备党员", "党员大会"),
    },
    "wrongdoing": {
        "favouritism": ("优亲厚友", "关系保", "人情保", "亲戚", "亲属", "关系户", "走后门"),
        "extortion": ("好处费", "送礼", "请客", "红包", "表示表示", "意思意思", "索要", "工本费",
                      "押金", "手续费", "跑腿钱", "服务费", "乱收费"),
        "fraud": ("冒领", "虚报", "吃空饷", "骗补", "套取", "虚开", "假证明"),
        "gambling": ("打麻将", "搓麻将", "打牌", "赌博"),
        "drinking": ("喝酒", "喝多", "醉醺醺", "酒驾"),
        "abuse": ("骂人", "打人", "动手"),
        "poor_work": ("偷工减料", "钢筋", "标号", "不合格", "豆腐渣"),
        "illegal_building": ("违建", "违规建", "基本农田", "占耕地"),
    },
}
OBJECT_FAMILY_OF = {kind: fam for fam, kinds in OBJECT_FAMILIES.items() for kind in kinds}
# Families whose kinds are what a complaint is *about* strongly enough to tell events apart; the
# kind of wrongdoing is a weaker hint (one reporter sees favouritism, another a fee).
WEAK_FAMILIES = frozenset({"wrongdoing"})


@lru_cache(maxsize=1)
def _object_tables() -> tuple[
    dict[tuple[str, ...], tuple[str, tuple[str, ...]]], dict[str, tuple[str, ...]], int
]:
    """(sound sequence -> (word, kinds)) for words, (character -> kinds) for single characters,
    and the longest word in syllables. A word may name kinds of several families: 养鸡场 is a
    farm and it is about chickens."""
    kinds_of: dict[str, list[str]] = {}
    for kinds in OBJECT_FAMILIES.values():
        for kind, words in kinds.items():
            for word in words:
                kinds_of.setdefault(word, []).append(kind)
    by_sound: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {}
    by_char: dict[str, tuple[str, ...]] = {}
    for word, kinds in kinds_of.items():
        if len(word) == 1:
            by_char[word] = tuple(kinds)
        else:
            by_sound[tuple(sound_key(word).split(" "))] = (word, tuple(kinds))
    return by_sound, by_char, max(len(k) for k in by_sound)


# -- data types ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    """One thing named in a complaint. ``key`` is what matching compares; ``text`` is shown."""

    kind: str  # township | village | group | person | object | amount | year
    text: str
    key: str
    role: str = ""  # persons: secretary, director, accountant …; objects: the family

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
    """Names learned from earlier complaints (surface text), so a bare 李庄 or 刘长贵 is found."""

    villages: set[str] = field(default_factory=set)
    townships: set[str] = field(default_factory=set)
    persons: set[str] = field(default_factory=set)

    def learn(self, entities: Entities) -> None:
        for m in entities.mentions:
            name = m.text
            if m.kind == "village" and 2 <= len(name) <= 3 and not name.endswith("村"):
                self.villages.add(name)
            elif m.kind == "township" and 2 <= len(name) <= 3:
                self.townships.add(name)
            elif m.kind == "person" and len(name) == 3 and name[0] in SURNAMES:
                self.persons.add(name)

    def to_dict(self) -> dict[str, list[str]]:
        return {k: sorted(getattr(self, k)) for k in ("villages", "townships", "persons")}

    @classmethod
    def from_dict(cls, data: dict[str, Iterable[str]]) -> Lexicon:
        return cls(*(set(data.get(k, ())) for k in ("villages", "townships", "persons")))


# -- helpers ------------------------------------------------------------------------------------


def _word_freq(word: str) -> int:
    return tokenizer().FREQ.get(word, 0) or 0


# Parts of speech (jieba's dictionary tags): function words never name a place, verbs rarely do
# (but 前进村, 跃进村 exist), place, person and proper-noun tags often do (河湾 ns, 大兴 b).
_FUNCTION_TAGS = frozenset("d p c u r m q t f ad y e o".split())
_VERB_TAGS = frozenset("v vd vn".split())
_PLACE_TAGS = frozenset("ns nr nz nrt nrfg b".split())
# Words starting with 村 after which the preceding word is usually not a village: 宴请村民 …
_LOOSE_AFTER = ("村民", "村里", "村干部", "村级", "村子")


@lru_cache(maxsize=1)
def _tagged_words() -> dict[str, str]:
    """word -> "function" | "verb" | "place" for the dictionary words of 1-3 characters whose tag
    says something about being a place name."""
    import jieba

    classes: dict[str, str] = {}
    path = Path(jieba.__file__).resolve().parent / "dict.txt"
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3 and len(parts[0]) <= 3:
                tag = parts[2]
                if tag in _FUNCTION_TAGS:
                    classes[parts[0]] = "function"
                elif tag in _VERB_TAGS:
                    classes[parts[0]] = "verb"
                elif tag in _PLACE_TAGS:
                    classes[parts[0]] = "place"
    return classes


def _could_be_place(name: str, strict: bool) -> bool:
    """Whether a word may name a place. Single characters and loose contexts (``strict``) need a
    place-like or unknown word; otherwise anything but a function word will do."""
    cls = _tagged_words().get(name)
    if strict or len(name) == 1:
        return cls == "place" or (cls is None and not _word_freq(name))
    return cls != "function"


def _tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) of each jieba word of the text."""
    spans, pos = [], 0
    for word in tokenizer().lcut(text, HMM=True):
        spans.append((pos, pos + len(word)))
        pos += len(word)
    return spans


def _valid_name(name: str) -> bool:
    return (
        2 <= len(name) <= 3
        and not any(ch in _NAME_STOP or not _HAN.match(ch) for ch in name)
        and name not in _NAME_STOPWORDS
        and name[:2] not in _NAME_STOPWORDS
        and name[-2:] not in _NAME_STOPWORDS
    )


def _name_before(text: str, suffix: int, tokens: list[tuple[int, int]]) -> str:
    """The place name right before the suffix starting at ``suffix`` (村, 镇 …), from the word
    boundaries: 我们|河湾|村 -> 河湾, 马店|镇|周营村 -> 周营, 反映|过周|郢|村 -> 周郢."""
    k = next((i for i, (b, e) in enumerate(tokens) if b <= suffix < e), None)
    if k is None or suffix < 2:
        return ""
    begin, end = tokens[k]
    glued_after = begin == suffix and text[begin:end].startswith(_LOOSE_AFTER)
    if begin < suffix:  # jieba kept the name and the suffix together: 周营村, 石门镇, 本村
        name = text[begin:suffix]
    elif k > 0:
        b, e = tokens[k - 1]
        name = text[b:e] if e - b <= 3 else text[e - 2 : e]
        k -= 1
    else:
        return ""
    if len(name) == 1:
        if name in _BEFORE_SUFFIX_STOP:
            return ""  # 本村, 进村, 全镇
        b, e = tokens[k - 1] if k > 0 else (0, 0)
        if 0 < e - b <= 2:
            name = text[b:e] + name  # 柳|集乡 -> 柳集
        elif not _could_be_place(name, strict=True):
            return ""
    if not _valid_name(name) and len(name) == 3 and name[0] in _NAME_STOP:
        name = name[1:]  # 过周郢 -> 周郢
    if not _valid_name(name):
        return ""
    if not _could_be_place(name, strict=glued_after):
        return ""  # 宴请村民, 时候村干部, 未经村委会: not a village
    return name


def _place_key(name: str) -> str:
    return sound_key(name[-2:])


# -- extractors ---------------------------------------------------------------------------------


def _admin_mentions(
    text: str, tokens: list[tuple[int, int]], lexicon: Lexicon | None
) -> tuple[list[Mention], list[tuple[int, int]]]:
    """Townships and villages with their spans (so objects are not read inside them)."""
    found: list[Mention] = []
    spans: list[tuple[int, int]] = []

    def add(kind: str, name: str, begin: int, end: int) -> None:
        if any(b < end and begin < e for b, e in spans):
            return
        spans.append((begin, end))
        found.append(Mention(kind, name, _place_key(name)))

    for kind, suffixes in (("township", _TOWNSHIP_SUFFIXES), ("village", _VILLAGE_SUFFIXES)):
        pattern = "|".join(map(re.escape, suffixes))
        for match in re.finditer(pattern, text):
            after = text[match.end() : match.end() + 1]
            if (kind == "township" and after in ("镇", "村")) or after in ("级", "规", "容"):
                continue  # 乡镇, 乡村, 镇村, 村级
            name = _name_before(text, match.start(), tokens)
            if name:
                add(kind, name, match.start() - len(name), match.end())
    # Surname + a typical last character: 李庄的, 杨营通组路, 张圩.
    for match in re.finditer(f"[{''.join(SURNAMES)}][{_VILLAGE_TAIL}]", text):
        add("village", match.group(), match.start(), match.end())
    # 俺是大兴的 / 俺们白马那个 / …张圩的。: a bare name in a clear context.
    for match in re.finditer(
        r"(?:(?:俺|我|咱)们?是?|[。！？，,\s]|^)([\u4e00-\u9fff]{2,3}?)(?:的[。！？，,\s]|的$|那|这)",
        text,
    ):
        name = match.group(1)
        if _valid_name(name) and _could_be_place(name, strict=True):
            add("village", name, match.start(1), match.end(1))
    if lexicon:
        for kind, names in (("village", lexicon.villages), ("township", lexicon.townships)):
            for name in names:
                for match in re.finditer(re.escape(name), text):
                    begin, end = match.start(), match.end()
                    common = _word_freq(name) >= 100
                    context = text[max(0, begin - 2) : begin]
                    if common and not re.search(r"(俺|我|咱|们|是)$", context):
                        continue
                    add(kind, name, begin, end)
    return found, spans


_GROUP_RE = re.compile(r"第?(\d{1,2})(?:个)?(?:村民|生产)?小?(?:组|队)")


def _group_mentions(text: str) -> list[Mention]:
    out = []
    for match in _GROUP_RE.finditer(text):
        number = int(match.group(1))
        if 0 < number < 40:
            out.append(Mention("group", f"{number}组", f"g{number}"))
    return out


# Characters that end a given name: 会计刘洪的同学 -> 刘洪, 组长马广才把 -> 马广才.
_GIVEN_STOP = frozenset(
    "的了是在把被给让跟和对说就都也还又很不没有要会能可这那哪个们他她我你俺咱恁上下里时以因等将"
    "从向与及并或而但却到去来用拿收扣占弄叫于每村镇乡县区组庄某书记主任会计老板，。！？、；：,.!?;: "
)


def _person(name: str, role: str) -> Mention:
    return Mention("person", name, sound_key(name), role)


def _surname_at(text: str, i: int) -> bool:
    """A surname, or a character that sounds like one where speech recognition put it before a
    title (流主任 for 刘主任)."""
    ch = text[i]
    if ch in SURNAMES:
        return True
    return (
        _HAN.match(ch) is not None
        and ch not in _GIVEN_STOP
        and ch not in _NOT_SURNAME
        and fuzzy_syllable(syllable(ch)) in _surname_sounds()
    )


_NOT_SURNAME = frozenset("副老小总大前新原现找问向跟给和对让叫把被党支部委正代第该分")
# Surnames that are also everyday words (钱买药, 高标准): trusted only next to a title.
_AMBIGUOUS_SURNAMES = frozenset("钱金高白石田马龙江方常万路文")
_OFFICIAL_ROLES = frozenset(
    "secretary director accountant clerk group_leader township_head official".split()
)


@lru_cache(maxsize=1)
def _surname_sounds() -> frozenset[str]:
    return frozenset(fuzzy_syllable(syllable(ch)) for ch in SURNAMES)


def _person_mentions(
    text: str, lexicon: Lexicon | None, places: list[tuple[int, int]]
) -> list[Mention]:
    out: list[Mention] = []
    taken: list[tuple[int, int]] = list(places)

    def add(mention: Mention, begin: int, end: int) -> None:
        if any(b < end and begin < e for b, e in taken):
            return
        taken.append((begin, end))
        out.append(mention)

    for match in _TITLE_RE.finditer(text):
        role = TITLES[match.group()]
        p, q = match.start(), match.end()
        # Title first, then the full name: 主任刘长贵, 会计刘洪的.
        if q < len(text) and text[q] in SURNAMES and not _TITLE_RE.match(text, q + 1):
            given = ""
            for ch in text[q + 1 : q + 3]:
                if not _HAN.match(ch) or ch in _GIVEN_STOP:
                    break
                given += ch
            name = text[q] + given
            if given and (len(name) == 3 or not _word_freq(name)):
                add(_person(name, role), q, q + len(name))
                continue
        if role == "resident":
            continue  # 老人/村民 only introduce a name (老人王德福), never follow a surname
        # Surname right before the title: 刘主任; a sound-alike only for officials (流主任).
        if p >= 1 and (
            text[p - 1] in SURNAMES or (role in _OFFICIAL_ROLES and _surname_at(text, p - 1))
        ):
            add(_person(text[p - 1], role), p - 1, q)
            continue
        # Full name before the title: 刘长贵书记.
        for n in (3, 2):
            cand = text[p - n : p] if p >= n else ""
            if cand and cand[0] in SURNAMES and not any(ch in _GIVEN_STOP for ch in cand[1:]):
                add(_person(cand, role), p - n, q)
                break
    # 姓刘的 / 会计姓赵 / 姓孙的会计.
    for match in re.finditer(r"(?<![百贵])姓(?!名)([\u4e00-\u9fff])", text):
        before = _TITLE_RE.search(text[max(0, match.start() - 5) : match.start()] + "$")
        after = _TITLE_RE.match(text, match.end() + 1) if text[match.end() : match.end() + 1] == "的" else None
        role = TITLES[(after or before).group()] if (after or before) else ""
        add(_person(match.group(1), role), match.start(), match.end())
    # X某 in formal petitions: 王某, 周某.
    for match in re.finditer(f"([{''.join(SURNAMES)}])某(?!某)", text):
        add(_person(match.group(1), ""), match.start(), match.end())
    # Names jieba's HMM found (not dictionary words): 王德福, 马广才.
    pos = 0
    for word in tokenizer().lcut(text, HMM=True):
        if (
            len(word) == 3
            and word[0] in SURNAMES
            and word[0] not in _AMBIGUOUS_SURNAMES
            and not any(ch in _GIVEN_STOP for ch in word[1:])
            and _HAN.match(word[1])
            and _HAN.match(word[2])
            and not _word_freq(word)
            and not _word_freq(word[1:])
        ):
            add(_person(word, ""), pos, pos + 3)
        pos += len(word)
    if lexicon:
        for name in lexicon.persons:
            for match in re.finditer(re.escape(name), text):
                add(_person(name, ""), match.start(), match.end())
    return out


def _object_mentions(text: str, masked: list[tuple[int, int]]) -> list[Mention]:
    """Objects by sound, but at least half the characters as written: 大堂 is 大塘 and 光福电站 is
    光伏电站, while 领低(保) is not 林地."""
    by_sound, by_char, longest = _object_tables()
    chars = [
        "#" if any(b <= i < e for b, e in masked) else ch for i, ch in enumerate(text)
    ]
    sounds = [fuzzy_syllable(syllable(ch)) if _HAN.match(ch) else "" for ch in chars]
    found: dict[str, Mention] = {}
    i = 0
    while i < len(chars):
        hit: tuple[tuple[str, ...], int] | None = None
        for n in range(min(longest, len(chars) - i), 1, -1):
            seq = tuple(sounds[i : i + n])
            entry = by_sound.get(seq) if "" not in seq else None
            if entry:
                same = sum(a == b for a, b in zip(chars[i : i + n], entry[0], strict=True))
                if 2 * same >= n:
                    hit = (entry[1], n)
                    break
        if hit is None and chars[i] in by_char:
            hit = (by_char[chars[i]], 1)
        if hit:
            kinds, n = hit
            written = "".join(chars[i : i + n])
            for kind in kinds:
                found.setdefault(kind, Mention("object", written, kind, OBJECT_FAMILY_OF[kind]))
            i += n
        else:
            i += 1
    return list(found.values())


_CN_NUM = "零一二两三四五六七八九十百千万"
_AMOUNT_RE = re.compile(
    rf"(\d+(?:\.\d+)?|[{_CN_NUM}]+)(多|余|来)?([万千])?([一二两三四五六七八九])?(多|余)?(元|块)?"
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
    """Sums of money in yuan: 3000块, 三万九, 8.6万元, 80多万, 一万二."""
    out: dict[int, Mention] = {}
    for match in _AMOUNT_RE.finditer(text):
        number, _, unit, tail, _, currency = match.groups()
        after = text[match.end() : match.end() + 1]
        value = _to_number(number)
        if value is None:
            continue
        before = text[match.start() - 1 : match.start()] if match.start() else ""
        has_unit = (
            bool(unit)
            or any(ch in "千万" for ch in number)
            or (value >= 1000 and (match.group(2) or match.group(5)))  # 80000多
            or before in _MONEY_VERBS  # 每亩扣3000
        )
        if not currency and (not has_unit or after in _NOT_MONEY_AFTER):
            continue
        scale = {"万": 10000, "千": 1000}.get(unit or "", 1)
        value *= scale
        if tail and scale > 1:
            value += _to_number(tail) * scale / 10  # 一万二 = 12000, 两千五 = 2500
        if value >= 10:
            key = str(int(round(value)))
            out.setdefault(int(round(value)), Mention("amount", match.group(), key))
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


def extract_entities(
    text: str, received: date | None = None, lexicon: Lexicon | None = None,
    *, normalized: bool = False,
) -> Entities:
    """Places, people, objects, amounts and years named in one complaint. ``received`` resolves
    去年/今年; ``lexicon`` adds names learned from earlier complaints."""
    norm = text if normalized else normalize_text(text)
    tokens = _tokens(norm)
    admin, spans = _admin_mentions(norm, tokens, lexicon)
    persons = _person_mentions(norm, lexicon, spans)
    mentions = [
        *admin,
        *_group_mentions(norm),
        *persons,
        *_object_mentions(norm, spans),
        *_amount_mentions(norm),
        *_year_mentions(norm, received),
    ]
    unique: dict[tuple[str, str], Mention] = {}
    for m in mentions:
        unique.setdefault((m.kind, m.key), m)
    return Entities(tuple(unique.values()))


def content_words(text: str, *, normalized: bool = False) -> list[str]:
    """The words of a complaint that may carry its particulars (儿媳妇, 小卖部, 冰雹): Han words
    of two or more characters, not the hotline's stock phrases."""
    norm = text if normalized else normalize_text(text)
    return [
        w for w in segment(norm)
        if len(w) >= 2 and all(_HAN.match(ch) for ch in w) and w not in STOPWORDS
    ]


STOPWORDS = frozenset(
    ["反映", "举报", "投诉", "问题", "情况", "我们", "俺们", "咱们", "他们", "你们", "恁们", "现在", "到现在", "一直", "没有", "木有", "已经", "还是", "就是", "但是", "可是", "因为", "所以", "如果", "这个", "那个", "什么", "怎么", "为什么", "知道", "领导", "请求", "希望", "恳请", "麻烦", "调查", "核查", "处理", "相关", "部门", "上级", "政府", "村里", "村民", "老百姓", "群众", "大家", "自己", "别人", "人家", "这样", "那样", "一下", "一个", "一些", "这些", "那些", "时候", "以后", "以前", "当时", "今年", "去年", "前年", "还有", "而且", "并且", "然后", "结果", "说是", "听说", "据说", "好像", "可能", "应该", "必须", "需要", "不能", "不会", "不给", "不让", "给了", "拿到", "到手", "发放", "一分", "一点", "这么", "那么", "多少", "几个", "好几", "真正", "实在", "非常", "特别", "根本", "从来", "到底", "究竟", "为啥", "咋回事", "喂你好", "你好", "我要", "我是", "俺是", "本人", "实名", "特此", "此致", "敬礼", "谢谢", "尊敬", "反映一下", "帮忙", "做主", "评理", "过问", "给个", "说法", "下来", "上去", "出来", "起来", "过来", "回来", "东西", "事情", "事儿", "那边", "这边", "里面", "外面", "上面", "下面", "村干部", "干部"]
)
