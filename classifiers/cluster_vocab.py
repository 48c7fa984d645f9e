"""Vocabulary for recognising what identifies an event: sound keys, surnames and titles, place
name stop lists, and the kinds of objects, programmes and wrongdoing complaints are about.

Tables only, plus the two look-ups built from them once (sound tables of the object words, the
part-of-speech class of dictionary words).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from classifiers.features import syllable
from classifiers.segment import tokenizer

HAN = re.compile(r"[\u4e00-\u9fff]")


def _words(text: str) -> frozenset[str]:
    """A word list written as one space-separated string."""
    return frozenset(text.split())


# -- sound keys ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def fuzzy_syllable(syl: str) -> str:
    """Fold the sound contrasts Jianghuai and Anhui speech (and recognisers trained on it) lose:
    zh/z, ch/c, sh/s, n/l, -ing/-in, -eng/-en."""
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
    return " ".join(fuzzy_syllable(syllable(ch)) if HAN.match(ch) else ch for ch in text)


def sounds(text: str) -> list[str]:
    """The fuzzy syllable of each character ("" for characters that are not Han)."""
    return [fuzzy_syllable(syllable(ch)) if HAN.match(ch) else "" for ch in text]


# -- people -------------------------------------------------------------------------------------

SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵钱严覃武戴莫孔汤常葛鲁柳殷童祝聂储桂查岳翟鲍檀凤"
)
SURNAME_CLASS = "[" + "".join(sorted(SURNAMES)) + "]"
# Surnames that are also everyday words (钱买药, 高标准): trusted only next to a title.
AMBIGUOUS_SURNAMES = frozenset("钱金高白石田马龙江方常万路文")
# Characters that sound like a surname but, before a title, are something else (副主任, 找书记).
NOT_SURNAME = frozenset("副老小总大前新原现找问向跟给和对让叫把被党支部委正代第该分")

# Title -> role. 老人/村民 only introduce a name (老人王德福).
TITLES: dict[str, str] = {
    "党支部书记": "secretary",
    "党总支书记": "secretary",
    "总支书记": "secretary",
    "支部书记": "secretary",
    "村支书": "secretary",
    "支书": "secretary",
    "书记": "secretary",
    "村委会主任": "director",
    "村主任": "director",
    "主任": "director",
    "村长": "director",
    "会计": "accountant",
    "报账员": "accountant",
    "出纳": "accountant",
    "文书": "clerk",
    "专干": "clerk",
    "小组长": "group_leader",
    "组长": "group_leader",
    "队长": "group_leader",
    "镇长": "township_head",
    "乡长": "township_head",
    "所长": "official",
    "站长": "official",
    "委员": "official",
    "主席": "official",
    "网格员": "official",
    "包工头": "contractor",
    "老板": "contractor",
    "经理": "contractor",
    "老总": "contractor",
    "候选人": "candidate",
    "村医": "doctor",
    "老人": "resident",
    "老汉": "resident",
    "村民": "resident",
}
TITLE_RE = re.compile("|".join(sorted(map(re.escape, TITLES), key=len, reverse=True)))
OFFICIAL_ROLES = _words("secretary director accountant clerk group_leader township_head official")
# Characters that end a given name: 会计刘洪的同学 -> 刘洪, 组长马广才把 -> 马广才.
GIVEN_STOP = frozenset(
    "的了是在把被给让跟和对说就都也还又很不没有要会能可这那哪个们他她我你俺咱恁搁上下里时以因等将"
    "从向与及并或而但却到去来用拿收扣占弄叫于每村镇乡县区组庄某书记主任会计老板"
    "，。！？、；：,.!?;: "
)

# -- places -------------------------------------------------------------------------------------

# Characters that never occur inside a place name; they mark where the name before 村/镇 begins.
NAME_STOP = frozenset(
    "的了是在我你他她它们这那哪个与跟给从向对把被让由于为就都也还又才很太最更不没无有要会能可说"
    "问找去来到回出里之其该本各每全此某啥咋么呢吗吧啊呀哦嘛哩俺恁咱搁谁个村镇乡组县区市省户人家年"
    "月日号时钱款费过系经受叫，。！？、；：,.!?;: "
)
# A single character right before 村/镇/乡 that makes a common word, not a name (本村, 进村).
BEFORE_SUFFIX_STOP = frozenset(
    "本该全邻外各此每哪农乡城回进出驻包到在同隔两个这那和与小大村镇叫选找问去"
)
NAME_STOPWORDS = _words(
    "隔壁 附近 周边 全体 整个 旁边 邻近 其他 别的 所在 本地 当地 城中 贫困 行政 自然 示范 美丽 "
    "文明 中心 重点 试点 移民 新农 村里 组里 家里 这里 那里 哪里 镇上 乡里 县里 城里 外地 老家 "
    "俺家 我家 他家 自家 大家 人家 全家 一家 村上 庄上 这边 那边 今年 去年 前年 明年 现在 以前 "
    "以后 当时 那年 上面 下面 干部 大伙 老百姓 百姓 群众 公司 企业 集体 "
    # What a caller does about a village, not its name: 实名反映村党支部书记, 去办事村部锁着门.
    "反映 举报 投诉 办事 上访 告状 检举 揭发 咨询 询问 打听"
)
VILLAGE_SUFFIXES = ("村民委员会", "村委会", "社区", "居委会", "村")
TOWNSHIP_SUFFIXES = ("街道", "镇", "乡")
# Last characters of village names that are unmistakable after a surname: 李庄, 杨营, 张圩, 周郢.
VILLAGE_TAIL = "庄营圩郢集寨湾岗店楼洼屯铺"
# Words starting with 村 after which the word before is rarely a village: 宴请村民, 时候村干部.
LOOSE_AFTER = ("村民", "村里", "村干部", "村级", "村子")

# jieba dictionary tags: function words never name a place, verbs rarely do (前进村, 跃进村
# exist), place, person and proper-noun tags often do (河湾 ns, 大兴 b).
_FUNCTION_TAGS = _words("d p c u r m q t f ad y e o")
_VERB_TAGS = _words("v vd vn")
_PLACE_TAGS = _words("ns nr nz nrt nrfg b")


@lru_cache(maxsize=1)
def tagged_words() -> dict[str, str]:
    """word -> "function" | "verb" | "place" for dictionary words of 1-3 characters whose tag
    says something about being a place name (read once from jieba's dictionary)."""
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


def word_freq(word: str) -> int:
    """How common a word is in the tokenizer's dictionary (0: not a dictionary word)."""
    return tokenizer().FREQ.get(word, 0) or 0


# -- what a complaint is about ------------------------------------------------------------------

# Kinds of one family conflict: a road and a bridge in the same village are two events, and so
# are 保洁员 wages and the choice of 护林员, or 冒领 and 索要好处. Multi-character words are matched
# by sound (光福电站 is 光伏电站), single characters only as written. A word may name kinds of
# several families (养鸡场: a farm, and chickens).
OBJECT_FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "facility": {
        "pond": ("鱼塘", "水塘", "池塘", "大塘", "塘口", "当家塘", "塘坝", "水面", "塘"),
        "reservoir": ("水库",),
        "forest": ("山林", "林地", "荒山", "后山", "林子", "山场", "林场"),
        "highway": ("高速", "高速公路", "省道", "国道"),
        "road": (
            "水泥路",
            "通组路",
            "通村路",
            "村道",
            "道路",
            "公路",
            "马路",
            "主路",
            "路面",
            "机耕路",
            "修路",
            "路基",
            "柏油路",
            "泥巴路",
            "硬化路",
            "那条路",
            "这条路",
        ),
        "bridge": ("桥梁", "桥面", "桥墩", "石桥", "木桥", "漫水桥", "拱桥", "桥"),
        # A village's well and its piped water are two matters (a pump broken, a main burst).
        "well": ("水井", "水泵", "井泵", "机井", "井"),
        "tap_water": ("自来水", "水管", "管道", "停水", "水压", "供水"),
        "embankment": ("护坡", "河堤", "堤坝", "河坝", "挡土墙", "护岸"),
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
    # Companies and cooperatives by their own name (entities._org_mentions): two named firms
    # are two matters, as a road and a bridge are.
    "org": {},
    # A cadre's relative, as office>relation (entities._relative_mentions).
    "relative": {},
    "programme": {
        "cleaner": ("保洁员", "保洁", "扫马路", "扫大路", "扫路", "扫街", "打扫卫生"),
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
        "pig": ("养猪", "养猪场", "生猪", "猪"),
        "cattle": ("养牛",),
        "fish": ("养鱼",),
    },
    "crop": {
        "wheat": ("小麦", "麦子"),
        "corn": ("玉米",),
        "rice": ("水稻", "稻子", "稻"),
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
        "extortion": (
            "好处费",
            "送礼",
            "请客",
            "红包",
            "表示表示",
            "意思意思",
            "索要",
            "工本费",
            "押金",
            "手续费",
            "跑腿钱",
            "跑腿费",
            "服务费",
            "乱收费",
        ),
        "fraud": ("冒领", "虚报", "吃空饷", "骗补", "套取", "虚开", "假证明"),
        "gambling": ("打麻将", "搓麻将", "打牌", "赌博"),
        "drinking": ("喝酒", "喝多", "醉醺醺"),
        "abuse": ("骂人", "打人", "动手"),
        "poor_work": ("偷工减料", "钢筋", "标号", "不合格", "豆腐渣"),
        "illegal_building": ("违建", "违规建", "基本农田", "占耕地", "占良田", "占农田"),
    },
}
OBJECT_FAMILY_OF = {kind: fam for fam, kinds in OBJECT_FAMILIES.items() for kind in kinds}
# Every word that names an object: 后山那一大片 is a hill, not a village called 后山.
OBJECT_WORDS = frozenset(
    word for kinds in OBJECT_FAMILIES.values() for words in kinds.values() for word in words
)
# The kind of wrongdoing is a weaker hint (one reporter sees favouritism, another a fee).
WEAK_FAMILIES = frozenset({"wrongdoing"})


@lru_cache(maxsize=1)
def object_tables() -> tuple[
    dict[tuple[str, ...], tuple[str, tuple[str, ...]]], dict[str, tuple[str, ...]], int
]:
    """(sound sequence -> (word, kinds)) for words, (character -> kinds) for single characters,
    and the longest word in syllables."""
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


# -- words --------------------------------------------------------------------------------------

# The hotline's stock phrases: never what tells one event from another.
STOPWORDS = _words(
    """反映 举报 投诉 问题 情况 我们 俺们 咱们 他们 你们 恁们 现在 到现在 一直 没有 木有 已经
    还是 就是 但是 可是 因为 所以 如果 这个 那个 什么 怎么 为什么 知道 领导 请求 希望 恳请 麻烦
    调查 核查 处理 相关 部门 上级 政府 村里 村民 老百姓 群众 大家 自己 别人 人家 这样 那样 一下
    一个 一些 这些 那些 时候 以后 以前 当时 今年 去年 前年 还有 而且 并且 然后 结果 说是 听说
    据说 好像 可能 应该 必须 需要 不能 不会 不给 不让 给了 拿到 到手 发放 一分 一点 这么 那么
    多少 几个 好几 真正 实在 非常 特别 根本 从来 到底 究竟 为啥 咋回事 喂你好 你好 我要 我是
    俺是 本人 实名 特此 此致 敬礼 谢谢 尊敬 反映一下 帮忙 做主 评理 过问 给个 说法 下来 上去
    出来 起来 过来 回来 东西 事情 事儿 那边 这边 里面 外面 上面 下面 村干部 干部"""
)
