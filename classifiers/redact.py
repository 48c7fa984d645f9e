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
    "０１２３４５６７８９零〇○洞一幺么两二三四五六七拐八九勾Ｘｘ",
    "0123456789000011122345677899Xx",
)
_SEP = " \t\u3000-—–_·.()（）/"
_RUN = re.compile(r"\d(?:[" + re.escape(_SEP) + r"]*\d)*(?:[" + re.escape(_SEP) + r"]?[Xx×])?")
_CHUNK = re.compile(r"\d+[Xx×]?")
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


def _numbers(text: str, mapped: str) -> list[Found]:
    found: list[Found] = []
    for run in _RUN.finditer(mapped):
        chunks = list(_CHUNK.finditer(mapped, run.start(), run.end()))
        whole = "".join(c.group() for c in chunks)
        cue = _cue(text, run.start())
        kind = _number_kind(whole, cue)
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
        found.append(Found(kind, start, end, text[start:end]))
    return found


# -- addresses ----------------------------------------------------------------------------------

_NUM = r"[0-9０-９一二三四五六七八九十百零〇两]+"
_ADDRESS = re.compile(
    # 三组18号, 4队12户, 2排5号
    rf"{_NUM}\s*(?:组|队|社|排|巷)\s*{_NUM}\s*(?:号|户)(?:院|房)?"
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

_EXTRA_SURNAMES = frozenset("牛闵齐温康施申柴耿焦苗包宁乔尚邢庞洪向单艾管解房裴霍詹辛卞屈左郁岳柯")
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
_NAME_STOP = GIVEN_STOP | frozenset("想反举投特今现住电手身联男女岁号微签系称年月日〔〕")
# The name is a place, not a person: 李庄村, 郭集, 张圩子.
_PLACE_AFTER = frozenset("村庄镇乡组营集屯寨圩湾郢店楼岗街社队")
_PLACE_TAIL = frozenset("庄营圩郢集寨湾岗洼屯铺")
_FOLK = ("老汉", "老头", "老太", "大爷", "大娘", "大妈", "大婶", "婶子", "嫂子", "大姐", "大哥")
_KIN = re.compile(
    r"的(?:儿子|女儿|闺女|媳妇|老伴|家属|孙子|孙女|爱人|丈夫|妻子|老婆|男人|家人|亲属)"
)

_SELF_CUE = re.compile(
    r"(?:我|俺|咱)(?:的)?(?:名字|名)(?:叫|是)|(?:我|俺|咱)(?:就)?叫(?:做)?|名叫|本人(?:名叫|叫|是)?"
    r"|(?:我|俺|咱)(?:就)?(?:是|系)"
    r"|(?:实名)?(?:举报人|反映人|投诉人|信访人|来信人|来电人|申请人|联名人|具名人|签名人)"
    r"(?:姓名|签名|签字)?(?:为|是)?"
    r"|署名|落款|签名|签字|姓名|联系人"
)
_LIST_CUE = re.compile(r"举报人|反映人|联名|签名|署名|落款|签字")
_SURNAME_ONLY = re.compile(r"(?:我|俺|咱|本人)(?:就)?姓(?=(\S))")
_RELATIVES = (
    r"(?:妈|娘|爸|爹|母亲|父亲|奶奶|爷爷|姥姥|姥爷|外婆|外公|老伴儿?|婆婆|公公|老公|丈夫|男人"
    r"|媳妇|老婆|妻子|爱人|儿子|女儿|闺女|哥哥?|姐姐?|弟弟?|妹妹?|岳父|岳母|老丈人|丈母娘"
    r"|舅舅|叔叔|姑姑|大伯|伯伯|老头子?|老太婆|家老头|家那口子)"
)
_RELATIVE_CUE = re.compile(rf"(?:我|俺|咱)家?{_RELATIVES}(?:的)?(?:名字|姓名)?(?:叫|是|[:：])")
_ON_BEHALF = re.compile(rf"(?:替|帮|代|给)(?:我|俺|咱)家?{_RELATIVES}")
_THEY_CALLED = re.compile(r"[她他](?:的)?(?:名字|姓名)?叫")
_PERSON_NOUN = re.compile(
    r"村民|居民|群众|老党员|党员|社员|农民|老人|邻居|家属|户主|低保户|五保户|贫困户|退伍军人|老兵"
    r"|教师|老师|的"
)
_CLAUSE_END = re.compile(r"[，。,；;！？!?\n]")
_SIGN_OFF = re.compile(r"此致|敬礼")
_SIGNATURE_TAIL = re.compile(
    r"[\s\d０-９年月日号.,，。、:：\-—/()（）〔〕姓名电话手机联系方式身份证银行卡号住址]*$"
)


def _take_name(text: str, p: int) -> tuple[int, int] | None:
    """The span of a person's name starting at p, or None where it is a place, a title, or
    not a name at all."""
    n = len(text)
    if p >= n:
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
    else:
        return None
    if _TITLE_AFTER.match(text, end) or _TITLE_BEFORE.search(text, max(0, start - 6), start):
        return None
    if text.startswith("的", end) and not _KIN.match(text, end):
        return None
    return start, end


def _name_after(text: str, q: int) -> tuple[int, int] | None:
    """The first name after a self-reference cue ending at q: directly (我叫王秀英) or after a
    short description of the writer (我是李庄村三组村民王秀英, 我是他邻居老刘)."""
    while q < len(text) and text[q] in " ：:\u3000":
        q += 1
    stop = _CLAUSE_END.search(text, q, q + 18)
    limit = stop.start() if stop else min(len(text), q + 18)
    span = _take_name(text, q)
    if span:
        return span
    for m in _PERSON_NOUN.finditer(text, q, limit):
        p = m.end()
        while p < limit and text[p] in " \u3000":
            p += 1
        span = _take_name(text, p)
        if span:
            return span
    return None


def _with_list(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """A signature may list several names: 联名人：王秀英、李桂兰、赵德福."""
    spans = [span]
    while spans[-1][1] < len(text) and text[spans[-1][1]] in "、,， ":
        nxt = _take_name(text, spans[-1][1] + 1)
        if not nxt:
            break
        spans.append(nxt)
    return spans


def _names(text: str) -> list[Found]:
    spans: list[tuple[int, int]] = []
    for cue in _SELF_CUE.finditer(text):
        span = _name_after(text, cue.end())
        if span:
            if _LIST_CUE.match(cue.group()) or _LIST_CUE.search(cue.group()):
                spans.extend(_with_list(text, span))
            else:
                spans.append(span)
    for cue in _RELATIVE_CUE.finditer(text):
        span = _name_after(text, cue.end())
        if span:
            spans.append(span)
    if _ON_BEHALF.search(text):
        for cue in _THEY_CALLED.finditer(text):
            span = _name_after(text, cue.end())
            if span:
                spans.append(span)
    for m in _SURNAME_ONLY.finditer(text):
        p = m.end()
        if text[p] in _ALL_SURNAMES:
            spans.append((p, p + 1))
    # A signature after 此致敬礼, or a name ending the text: ……村民王秀英 2024年3月5日
    signs = [m.end() for m in _SIGN_OFF.finditer(text)]
    if signs:
        p = signs[-1]
        while p < len(text) and text[p] in "！!，,。 \n\u3000：:":
            p += 1
        span = _name_after(text, p)
        if span:
            spans.extend(_with_list(text, span))
    for m in _PERSON_NOUN.finditer(text, max(0, len(text) - 40)):
        if m.group() == "的":
            continue
        p = m.end()
        while p < len(text) and text[p] in " \u3000":
            p += 1
        span = _take_name(text, p)
        if span and _SIGNATURE_TAIL.match(text, span[1]):
            spans.append(span)
    return [Found("name", s, e, text[s:e]) for s, e in spans]


# -- all together -------------------------------------------------------------------------------

_PRIORITY = {"id_card": 0, "bank_card": 0, "phone": 0, "address": 1, "name": 2}


def redact(text: str) -> Redacted:
    """Replace what identifies the complainant with a bracketed label; keep everything else."""
    mapped = text.translate(_DIGIT_MAP)
    candidates = _numbers(text, mapped) + _addresses(text) + _names(text)
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
