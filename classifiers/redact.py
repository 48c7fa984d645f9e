"""Mask what identifies the complainant before a township handler reads a complaint.

Complainants often give their name, phone, ID number, bank card and house address. Handlers
must not see those (retaliation is the main reason residents stay silent), but they must see
the accused cadres, third parties and places, or they cannot act. So the rules here are
deliberately narrow: a name is masked only where the text says it is the writer's own (我叫,
举报人：, a signature block, 我替我妈反映，她叫…), never because it looks like a name; numbers are
masked by shape (mobile, landline, 18-digit ID, 16-19 digit card), never 8-digit case numbers,
amounts or dates; an address only down at house level (三组18号, 5栋2单元301室), so the village
stays.

Pure regular expressions and small word lists: this runs at intake for every complaint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from classifiers.cluster_vocab import GIVEN_STOP, SURNAMES, TITLES

MASKS = {
    "name": "〔姓名〕",
    "phone": "〔电话〕",
    "id_card": "〔身份证号〕",
    "bank_card": "〔银行卡号〕",
    "address": "〔住址〕",
}


@dataclass(frozen=True)
class Found:
    kind: str
    start: int
    end: int
    original: str


@dataclass(frozen=True)
class Redacted:
    text: str
    found: tuple[Found, ...]


# -- numbers ------------------------------------------------------------------------------------

# One character in, one character out, so offsets in the mapped text are offsets in the original.
# Spoken digits follow actions/spoken.py: 幺 1, 两 2, 洞 0, 拐 7, 勾 9.
_DIGIT_MAP = str.maketrans(
    "０１２３４５６７８９零〇○洞一幺么要两二三四五六七拐八九勾Ｘｘ",
    "01234567890000111122345677899Xx",
)
_SEP = " \t\u3000-—–_·.()（）/"
_RUN = re.compile(r"\d(?:[" + re.escape(_SEP) + r"]*\d)*(?:[" + re.escape(_SEP) + r"]?[Xx×])?")
_CHUNK = re.compile(r"\d+[Xx×]?")
# Digit characters that are also everyday words (我要, 一直, 两个): a number may start after them.
_LOOSE_DIGITS = frozenset("要么一两二")
_MOBILE = re.compile(r"(?:0086|86)?1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")
_ID18 = re.compile(r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx×]")
_ID15 = re.compile(r"[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}")
# What the writer said just before a number: the nearest cue decides.
_CUES = re.compile(
    r"(?P<bank>银行卡|卡号|账号|帐号|存折|一卡通|社保卡|折子|打到|转到|汇到)"
    r"|(?P<id>身份证|证件号|身份号|公民号)"
    r"|(?P<phone>电话|手机|座机|固话|号码|联系方式|打|拨|call|微信|联系)"
    r"|(?P<case>案件|编号|案号|受理号|查询号|单号|回执|文号|批次)"
)


def _cue(text: str, start: int) -> str | None:
    """The kind of the last cue in the 14 characters before a number."""
    last = None
    for m in _CUES.finditer(text, max(0, start - 14), start):
        last = m.lastgroup
    return last


def _number_kind(digits: str, cue: str | None) -> str | None:
    """Classify a run of digits (separators removed) by shape, the cue breaking ties."""
    n = len(digits)
    if digits[-1] in "Xx×":
        return "id_card" if n in (15, 18) else None
    if cue == "case":
        return None
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return "phone"
    if n == 18 or n == 15:
        if cue == "bank":
            return "bank_card"
        if cue == "id" or (_ID18 if n == 18 else _ID15).fullmatch(digits):
            return "id_card"
        return "bank_card" if n == 18 else None
    if 16 <= n <= 19:
        return "id_card" if cue == "id" else "bank_card"
    if n in (7, 8) and cue == "phone":
        return "phone"  # a local landline given without its area code
    return None


def _run_kind(text: str, mapped: str, start: int, end: int) -> tuple[str | None, int, list]:
    """Classify the run at [start, end); where it fails, drop leading characters that are
    words as often as digits (电话要幺三九… is 139…, 我要1391234… is not 1139…)."""
    while True:
        chunks = list(_CHUNK.finditer(mapped, start, end))
        kind = _number_kind("".join(c.group() for c in chunks), _cue(text, start))
        if kind is not None or text[start] not in _LOOSE_DIGITS or end - start < 8:
            return kind, start, chunks
        start += 1


def _numbers(text: str, mapped: str) -> list[Found]:
    found: list[Found] = []
    for run in _RUN.finditer(mapped):
        if run.end() - run.start() < 7:
            continue  # 三组, 18号, 2024: too short for anything masked
        kind, run_start, chunks = _run_kind(text, mapped, run.start(), run.end())
        cue = _cue(text, run_start)
        # Two numbers said in one breath (a case number then a phone, two phones) split at the
        # gaps; a card number keeps its 4-digit groups together.
        if kind is None or (
            kind == "bank_card"
            and len(chunks) > 1
            and cue != "bank"
            and any(_MOBILE.fullmatch(c.group()) or len(c.group()) == 8 for c in chunks)
        ):
            i = 0
            while i < len(chunks):
                best = None
                for j in range(len(chunks), i, -1):
                    digits = "".join(c.group() for c in chunks[i:j])
                    if len(digits) < 7:
                        break
                    k = _number_kind(digits, cue if i == 0 else _cue(text, chunks[i].start()))
                    if k is not None and (j - i > 1 or len(digits) >= 7):
                        best = (k, j)
                        break
                if best is None:
                    i += 1
                    continue
                k, j = best
                start, end = chunks[i].start(), chunks[j - 1].end()
                found.append(Found(k, start, end, text[start:end]))
                i = j
            continue
        start, end = chunks[0].start(), chunks[-1].end()
        if kind == "phone" and start and text[start - 1] in "+＋":
            start -= 1
        found.append(Found(kind, start, end, text[start:end]))
    return found


# -- addresses ----------------------------------------------------------------------------------

_NUM = r"[0-9０-９一二三四五六七八九十百零〇两]+"
_ADDRESS = re.compile(
    # 三组18号, 4队12户, 2排5号
    rf"{_NUM}\s*(?:组|队|社|排|巷)\s*{_NUM}\s*(?:号|户(?!村民|人家|人|家|农户|群众|贫困户))(?:院|房)?"
    # 5栋2单元301室, 3号楼1单元
    rf"|{_NUM}\s*(?:栋|幢|号楼|座)(?:\s*{_NUM}\s*单元)?(?:\s*{_NUM}\s*(?:室|号|层|楼))*"
    rf"|{_NUM}\s*单元\s*{_NUM}\s*(?:室|号)"
    # 门牌号28
    rf"|门牌(?:号)?(?:是|为|[:：])?\s*{_NUM}\s*号?"
    # 人民路128号: the road is a place, the number is the house
    rf"|(?<=[路街巷弄])\s*{_NUM}\s*号(?:院)?"
)
_HOME_CUE = re.compile(r"家住|住在|现住|住址|地址|居住在|居住于|家在|住")
_HOUSE_NO = re.compile(rf"(?<![月第年日]){_NUM}\s*号(?![码线文件楼])")


def _addresses(text: str) -> list[Found]:
    found = [Found("address", m.start(), m.end(), m.group()) for m in _ADDRESS.finditer(text)]
    for cue in _HOME_CUE.finditer(text):
        m = _HOUSE_NO.search(text, cue.end(), min(len(text), cue.end() + 16))
        if m and not re.search(r"[，。,；;！？!?]", text[cue.end() : m.start()]):
            found.append(Found("address", m.start(), m.end(), m.group()))
    return found


# -- the complainant's own name -----------------------------------------------------------------

# Surnames cluster_vocab leaves out (it wants only those common in its region's place names);
# not 和来都东全水门利占别安明原连强: after 我是 they are words far more often than names.
_EXTRA_SURNAMES = frozenset(
    "于伍柏骆牛闵齐温康施申柴耿焦苗包宁乔尚邢庞洪单艾管裴霍詹辛卞屈左郁柯易甘倪滕饶阮舒符樊"
    "兰梅盛纪欧佘项蓝麦谷晏车边卜穆臧蒲邬阎庄涂俞季尤宫宗芦鄢应游戚华仇隋冉栾关娄巩丛靳郎佟"
    "荣吉狄褚宿雍索刁晁窦巫卫农冀宣邸奚文万路向解房"
    # Session 10: common surnames that are seldom words ("反映人：章友仁" went unmasked).
    "章颜毕翁喻祁牟缪岑瞿苟姬寇桑甄仲虞敖邝鞠胥栗谌粟冼蔺郜阚屠禹漆卿扈芮阙辜裘亓邰赫逯茹嵇湛戎茅尉昝"
)
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "司徒", "令狐", "慕容", "尉迟")
_ALL_SURNAMES = SURNAMES | _EXTRA_SURNAMES
_OFFICIAL_TITLES = sorted(
    (t for t, role in TITLES.items() if role not in ("resident", "candidate")),
    key=len,
    reverse=True,
)
_TITLE_AFTER = re.compile(r"[（(]?(?:" + "|".join(map(re.escape, _OFFICIAL_TITLES)) + ")")
_TITLE_BEFORE = re.compile("(?:" + "|".join(map(re.escape, _OFFICIAL_TITLES)) + r")[\s:：]?$")
# Words that start right after a name: they end it (我叫王强电话…, 王秀英今年六十).
_FOLLOWERS = (
    "电话",
    "手机",
    "联系",
    "身份",
    "家住",
    "家庭",
    "家里",
    "家在",
    "住在",
    "住址",
    "现住",
    "今年",
    "性别",
    "年龄",
    "号码",
    "微信",
    "本人",
    "反映",
    "举报",
    "投诉",
    "实名",
    "特此",
)
# 有 and 月 end a cadre's name in cluster_vocab (马广才有…, 3月), but a writer's own name often
# has them (陈有福, 蒋秋月); a following date is caught by _FOLLOWERS (今年) or the digits.
_NAME_STOP = (GIVEN_STOP - frozenset("有")) | frozenset(
    "想反举投特今现住电手身联男女岁号微签系称年日〔〕"
)
# The name is a place, not a person: 李庄村, 郭集, 张圩子.
_PLACE_AFTER = frozenset("村庄镇乡组营集屯寨圩湾郢店楼岗街社队")
_PLACE_TAIL = frozenset("庄营圩郢集寨湾岗洼屯铺")
_FEE_TAIL = frozenset("费款税")
_ORG_AFTER = re.compile(r"业|公司|厂|商店|超市|合作社|饭店|酒店|门市|工程队|施工队")
_FOLK = ("老汉", "老头", "老太", "大爷", "大娘", "大妈", "大婶", "婶子", "嫂子", "大姐", "大哥")
_KIN = re.compile(
    r"的(?:儿子|女儿|闺女|媳妇|老伴|家属|孙子|孙女|爱人|丈夫|妻子|老婆|男人|家人|亲属)"
)

# 俺叫孙子去信用社查: a grandson sent on an errand (孙 is a surname, 孙子 no name here).
_KIN_SENT = re.compile(r"孙(?:子|女|儿)(?=[去来帮到给替跟把上查问看回，,。\s]|$)")

_SELF_CUE = re.compile(
    r"(?:我|俺|咱)(?:的)?(?:名字|名|姓名)(?:叫|是|为)|(?:我|俺|咱)(?:就)?叫(?:做)?|名叫"
    r"|本人(?:名叫|叫|是)?"
    r"|(?:我|俺|咱)(?:们)?(?:就)?(?:是|系)|小女子|老朽|鄙人|在下|实名[:：]"
    r"|(?<!被)(?:实名)?(?:举报人|反映人|投诉人|信访人|来信人|来电人|申请人|联名人|具名人|签名人)"
    r"(?:姓名|签名|签字|信息|情况)?(?:[（(](?:签字|签名|手印|盖章|按手印)[）)])?(?:为|是)?"
    r"|署名|落款|签名|签字|姓名|联系人|开户名|户名|持卡人|收款人|(?:村民|群众)?代表[:：]"
    r"|(?<=姓[^\s，,。])[，,]?叫"
    # 我洪涛，沙河村的…: 我 straight before a name that ends the phrase
    r"|(?:^|(?<=[\s，,。！!？?]))(?:我|俺)(?!们)(?=\S{2,4}[，,\s]|[老小]\S)"
    # 找老孙就行: whom to call back
    r"|(?:找|联系)(?=\S{2,3}(?:就行|就可以|就好))"
)
# The 姓…，叫 cue alone ("我姓叶，叫叶长青"), told apart from the other self cues.
_SURNAME_THEN_CALLED = re.compile(r"^[，,]?叫$")
_LIST_CUE = re.compile(r"举报人|反映人|联名|签名|署名|落款|签字|代表")
_SURNAME_ONLY = re.compile(r"(?:我|俺|咱|本人)(?:就)?姓(?=(\S))|(?<=[，,\s])姓(?=(\S))")
_RELATIVES = (
    r"(?:妈|娘|爸|爹|母亲|父亲|奶奶|爷爷|姥姥|姥爷|外婆|外公|老伴儿?|婆婆|公公|老公|丈夫|男人"
    r"|媳妇|老婆|妻子|爱人|儿子|女儿|闺女|哥哥?|姐姐?|弟弟?|妹妹?|岳父|岳母|老丈人|丈母娘"
    r"|舅舅|叔叔|姑姑|大伯|伯伯|老头子?|老太婆|家老头|家那口子)"
)
_RELATIVE_CUE = re.compile(rf"(?:我|俺|咱)家?{_RELATIVES}(?:的)?(?:名字|姓名)?(?:叫|是|[:：])")
_ON_BEHALF = re.compile(rf"(?:替|帮|代|给)(?:我|俺|咱)家?{_RELATIVES}")
# 我代我父亲邓长林反映, 我儿子傅小明的助学金: the relative's name straight after the kinship word.
_RELATIVE_NAMED = re.compile(rf"(?:我|俺|咱)家?{_RELATIVES}(?=\S)")
# 我替我妈反映，她叫…; also a bare 叫 opening a clause of the writer's own: ……，叫范德明，
_BARE_CALLED = re.compile(r"(?:^|(?<=[，,。；;\s]))(?:名字)?叫")
# A name opening a terse message and followed by what the writer does: 马兰反映 1370…
_NAME_THEN_VERB = re.compile(r"(?:^|(?<=[\s，,。]))(?=\S{2,4}(?:反映|举报|投诉))")
_THEY_CALLED = re.compile(r"[她他](?:的)?(?:名字|姓名)?叫")
_PERSON_NOUN = re.compile(
    r"村民|居民|群众|老党员|党员|社员|农民|老人|邻居|家属|户主|低保户|五保户|贫困户|退伍军人|老兵"
    r"|教师|老师|的"
)
# Where the writer's description of themselves may end before their name: 我是高庙村马德林的老伴,
# 我是他们村的老支部委员老周 (a writer who is a cadre is still the writer).
_SELF_DESCRIPTION_END = re.compile(
    _PERSON_NOUN.pattern + r"|村|组|队|镇|乡|社区|委员|干部|那个|负责人|法人|经理|老板|厂长|会长"
)
# A description that reports someone else is not the writer's: 本人举报村会计马文华.
# 了 too: "我们是买了那个农业保险的" tells what the writer did, not who they are.
_NOT_SELF = re.compile(r"反映|举报|投诉|告|要|想|说|找|问|让|叫|把|被|给|和|跟|替|帮|代|为|了")
# 反映, or a description in brackets first: 村民阎春花（车站村低保户）反映
_REPORTS = re.compile(r"(?:[（(][^）)]{0,15}[）)])?(?:反映|举报|投诉)")
_RESIDENT = re.compile(r"村民|居民|群众|党员|社员|低保户|五保户|贫困户")
# A bare name right before a phone: 黄梅 17756413355, 王秀英，电话1391…
_NAME_BEFORE_PHONE = re.compile(
    r"(?:^|(?<=[\s，,。：:；;]))[\u4e00-\u9fff]{2,4}(?=[\s，,：:]*(?:联系)?(?:电话|手机|方式)?[:：]?\s*$)"
)
# "应为13856201437", "改成1390…": a verb before the number, not a name.
_COPULA_END = re.compile(r"(?:为|是|成|到)$")
_LAST_LINES = re.compile(
    r"(?m)^[ \t\u3000]*([\u4e00-\u9fff]{2,4})[ \t\u3000]*(?:[\d０-９年月日.\-/ ]*)$"
)
_NAME_END = re.compile(r"[，,。；;！!？?\s：:、]|$|反映|举报|投诉|电话|手机|今年|家住|住在|身份证")
# A speech transcript has no commas: a filler between spaces (" 啊 ") ends a clause too.
# A space before a new subject too: "我是那个羊店村的 我们村那个路灯…" (the description ends).
_CLAUSE_END = re.compile(r"[，。,；;！？!?\n]|\s(?:啊|嗯|呃|哦|那个)\s|\s(?=我|俺|咱|村里|他|她)")
_HESITATION = ("嗯", "啊", "呃", "额")
_SIGN_OFF = re.compile(r"此致|敬礼")
_SIGNATURE_TAIL = re.compile(
    r"[\s\d０-９年月日号.,，。、:：\-—/()（）〔〕姓名电话手机联系方式身份证银行卡号住址]*$"
)


def _take_name(
    text: str, p: int, title_before: bool = False, genitive: bool = False
) -> tuple[int, int] | None:
    """The span of a person's name starting at p, or None where it is a place, a title, or
    not a name at all."""
    n = len(text)
    if p >= n or _KIN_SENT.match(text, p):
        return None
    start = p
    if text[p] in "老小" and p + 1 < n and text[p + 1] in _ALL_SURNAMES:
        end = p + 2
        if end < n and text[end] in _PLACE_AFTER:
            return None
    elif text.startswith(_COMPOUND, p) or text[p] in _ALL_SURNAMES:
        q = p + (2 if text.startswith(_COMPOUND, p) else 1)
        folk = next((f for f in _FOLK if text.startswith(f, q)), None)
        if folk:
            end = q + len(folk)
        else:
            end = q
            while end < n and end - q < 2:
                ch = text[end]
                if not ("\u4e00" <= ch <= "\u9fff") or ch in _NAME_STOP:
                    break
                if text.startswith(_FOLLOWERS, end) or _TITLE_AFTER.match(text, end):
                    break
                end += 1
            if end == q:
                return None
            if text[end - 1] in _PLACE_TAIL or (end < n and text[end] in _PLACE_AFTER):
                return None
            if _ORG_AFTER.match(text, end):
                return None  # 华兴米业, 李记商店: a firm's name, not a person's
            if text[end - 1] in _FEE_TAIL:
                return None  # 管护费, 卫生费: a charge, not a person
    else:
        return None
    if _TITLE_AFTER.match(text, end):
        return None
    if not title_before and _TITLE_BEFORE.search(text, max(0, start - 6), start):
        return None
    if not genitive and text.startswith("的", end) and not _KIN.match(text, end):
        return None
    return start, end


def _name_after(text: str, q: int) -> tuple[int, int] | None:
    """The first name after a self-reference cue ending at q: directly (我叫王秀英) or after a
    short description of the writer (我是李庄村三组村民王秀英, 我是他邻居老刘)."""
    while q < len(text) and (text[q] in " ：:\u3000" or text.startswith(_HESITATION, q)):
        q += 1  # "我叫 嗯 吴春生": the hesitation is no part of the name
    stop = _CLAUSE_END.search(text, q, q + 18)
    limit = stop.start() if stop else min(len(text), q + 18)
    span = _take_name(text, q)
    if span:
        return span
    for m in _SELF_DESCRIPTION_END.finditer(text, q, limit):
        if _NOT_SELF.search(text, q, m.start()):
            break
        p = m.end()
        while p < limit and text[p] in " \u3000":
            p += 1
        span = _take_name(text, p, title_before=True)
        if span:
            return span
    return None


def _writer_speaks(text: str, at: int) -> bool:
    """The sentence before ``at`` is about the writer (我的卡号是…，叫夏德明), not someone else
    (他小舅子，叫李四)."""
    sentence = text[_sentence_start(text, at) : at]
    me = max(sentence.rfind("我"), sentence.rfind("俺"), sentence.rfind("本人"))
    return me >= 0 and not re.search(r"[他她]", sentence[me:])


def _sentence_start(text: str, at: int) -> int:
    return max(text.rfind(ch, 0, at) for ch in "。！!？?\n") + 1


def _stands_alone(text: str, at: int) -> bool:
    """The description before a signature name is its own line or phrase (……敬礼 李庄村村民
    王秀英), not the end of a sentence about someone else (低保给了村民王德福)."""
    start = max(text.rfind(ch, 0, at) for ch in "。！!？?\n \u3000，,：:") + 1
    return not re.search(_NOT_SELF.pattern + "|了|的|是|在", text[start:at])


def _with_list(text: str, span: tuple[int, int], signed: bool) -> list[tuple[int, int]]:
    """Several writers: 联名人：王秀英、李桂兰，赵德福 (a signature may use commas), 本人焦德林、
    焦德胜兄弟二人, 我们是苗大娘和包大爷 (in a sentence only 、和与, since 我叫王秀英，张大成…
    goes on about the cadre)."""
    seps = "、,， 和与" if signed else "、和与"
    spans = [span]
    while spans[-1][1] < len(text) and text[spans[-1][1]] in seps:
        nxt = _take_name(text, spans[-1][1] + 1)
        if not nxt:
            break
        spans.append(nxt)
    return spans


def _names(text: str, phones: list[Found]) -> list[Found]:
    spans: list[tuple[int, int]] = []
    for phone in phones:
        m = _NAME_BEFORE_PHONE.search(text, max(0, phone.start - 12), phone.start)
        if m and not _COPULA_END.search(m.group()):
            span = _take_name(text, m.start())
            if span and span[1] == m.end():
                spans.append(span)
    for cue in _SELF_CUE.finditer(text):
        if _SURNAME_THEN_CALLED.match(cue.group()) and not _writer_speaks(text, cue.start()):
            continue  # 那个会计姓胡，叫胡德明: the surname and name of someone else
        span = _name_after(text, cue.end())
        if span:
            spans.extend(_with_list(text, span, bool(_LIST_CUE.search(cue.group()))))
    for cue in _RELATIVE_CUE.finditer(text):
        span = _name_after(text, cue.end())
        if span:
            spans.append(span)
    if _ON_BEHALF.search(text):
        for cue in _THEY_CALLED.finditer(text):
            span = _name_after(text, cue.end())
            if span:
                spans.append(span)
    for cue in _RELATIVE_NAMED.finditer(text):
        span = _take_name(text, cue.end(), genitive=True)
        if span:
            spans.append(span)
    for cue in _BARE_CALLED.finditer(text):
        span = _take_name(text, cue.end())
        if span and _NAME_END.match(text, span[1]) and _writer_speaks(text, cue.start()):
            spans.append(span)
    for cue in _RESIDENT.finditer(text):
        span = _take_name(text, cue.end())
        if span and _REPORTS.match(text, span[1]):
            spans.append(span)
    for cue in _NAME_THEN_VERB.finditer(text):
        span = _take_name(text, cue.end())
        if span and text.startswith(("反映", "举报", "投诉"), span[1]):
            spans.append(span)
    for m in _SURNAME_ONLY.finditer(text):
        p = m.end()
        if m.group(2) and not _writer_speaks(text, m.start()):
            continue  # ，姓涂 only when the sentence is about the writer
        if text.startswith(_COMPOUND, p):
            spans.append((p, p + 2))
        elif text[p] in _ALL_SURNAMES:
            spans.append((p, p + 1))
            # "我姓叶 叶长青": the full name said right after the surname
            q = p + 1
            while q < len(text) and text[q] in " ，,\u3000":
                q += 1
            q += text.startswith("叫", q)
            if q < len(text) and text[q] == text[p] and (full := _take_name(text, q)):
                spans.append(full)
    # A signature after 此致敬礼, or a name ending the text: ……村民王秀英 2024年3月5日
    signs = [m.end() for m in _SIGN_OFF.finditer(text)]
    if signs:
        p = signs[-1]
        while p < len(text) and text[p] in "！!，,。 \n\u3000：:":
            p += 1
        span = _name_after(text, p)
        if span:
            spans.extend(_with_list(text, span, True))
    for m in _PERSON_NOUN.finditer(text, max(0, len(text) - 40)):
        if m.group() == "的":
            continue
        p = m.end()
        while p < len(text) and text[p] in " \u3000\n":
            p += 1
        span = _take_name(text, p)
        if span and _SIGNATURE_TAIL.match(text, span[1]) and _stands_alone(text, m.start()):
            spans.append(span)
    # A name alone on one of the last lines: the signature of a letter.
    for line in _LAST_LINES.finditer(text, max(0, text.rfind("\n", 0, max(0, len(text) - 60)))):
        span = _take_name(text, line.start(1)) if "\n" in text[: line.start(1)] else None
        if span and span[1] == line.end(1):
            spans.append(span)
    return [Found("name", s, e, text[s:e]) for s, e in spans]


# -- all together -------------------------------------------------------------------------------

_PRIORITY = {"id_card": 0, "bank_card": 0, "phone": 0, "address": 1, "name": 2}


def redact(text: str) -> Redacted:
    """Replace what identifies the complainant with a bracketed label; keep everything else."""
    mapped = text.translate(_DIGIT_MAP)
    numbers = _numbers(text, mapped)
    phones = [f for f in numbers if f.kind == "phone"]
    candidates = numbers + _addresses(text) + _names(text, phones)
    candidates.sort(key=lambda f: (_PRIORITY[f.kind], f.start, -(f.end - f.start)))
    chosen: list[Found] = []
    for f in candidates:
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    chosen.sort(key=lambda f: f.start)
    parts, last = [], 0
    for f in chosen:
        parts.append(text[last : f.start])
        parts.append(MASKS[f.kind])
        last = f.end
    parts.append(text[last:])
    return Redacted("".join(parts), tuple(chosen))
