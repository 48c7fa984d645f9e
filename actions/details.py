"""Reading the answers to the filing's questions (anonymity, the resident's name, a phone) out of
what a resident says. Pure functions: each returns None when the message does not answer, so
the bot asks again. Places are matched by the case service against the county's gazetteer."""

from __future__ import annotations

import re

from common.digits import digit_runs, find_phone, to_digits

_ANONYMOUS = re.compile(
    r"匿名|不留名|不要留名|别留名|不想留名|保密|不要写我|别写我|不透露|不要名字|不愿意留名|不敢留名|"
    r"别让.{0,6}(?:知道|晓得)|不要让.{0,6}(?:知道|晓得)|别叫.{0,6}(?:知道|晓得)|不写名|"
    r"不想让.{0,6}(?:知道|晓得)|不能让.{0,6}(?:知道|晓得)|报复|穿小鞋|"
    r"(?:别|不要|莫|不能|不许|不)[^，。,]{0,4}(?:我的?|俺的?)名字|名字(?:别|不要|莫|不)|"
    r"(?:别|不要|莫|不能|不许|不)写(?:上)?(?:俺|我)的?名"  # "莫写俺名"
)
_NAMED = re.compile(
    r"实名|留名|可以留|写我名字|写上我|留我名字|不用匿名|不需要匿名|不怕|公开我|署名|写我的名|我的名字(?=$|[，,。！!\s]|(?:就|可以|你们?|尽管|随便|也)?(?:写|留|用|登|公开|没关系|无所谓|不怕))|"
    r"真名|用我名字|报我名字|名字写上|写名字|写我名|用我的名|名字(?:可以|能|就|你)?(?:给)?写|"
    r"(?<![别不莫])写上(?!了)|怕个鬼|怕个啥|怕啥|怕什么|"
    r"(?<![别不莫要])(?:写|留|用|报)(?:俺|我)(?:的)?名|"  # "写俺名字", "留我的名字吧"
    # a relative files: "写我妈的名字", "留我爷爷的名字"
    r"(?:写|留|用)(?:老人|老人家|老汉|老太太|他老人家)的?名|"  # a grid worker: "写老人的名字吧"
    r"(?:写|留|用)(?:我|俺)(?:爸|妈|爹|娘|父亲|母亲|爷爷|奶奶|外公|外婆|姥姥|姥爷|老伴|老头子?)的?名"
)
_HAD_MEANT = re.compile(r"本来|原来想|原本|本想|本打算|开始想")
# Kin and people by their role: who a resident sends or means, never a name ("俺叫儿子去查").
# 孙子/孙女 only when no given name follows: 孙 is a surname too (孙子明).
_GRANDCHILD = r"孙[子女儿](?=[去来帮到给替跟把上查问看回打，,。\s]|$)"
_KIN = (
    r"儿子|女儿|闺女|儿媳|媳妇|老伴|老婆|老公|丈夫|爸|妈|爹|娘|爷爷|奶奶|哥|姐|弟|妹|"
    r"叔|婶|舅|姨|侄|外甥|亲戚|邻居|娃|孩子|书记|主任|会计|干部|人"
)
# "我叫黄志伟"; for a relative filing for a parent: "我爸叫钱有田" (the complainant's name).
_GIVES_NAME = re.compile(
    r"(?:我|俺|偶)(?:爸|妈|爹|娘|父亲|母亲|爷爷|奶奶|老爹|老娘|老头子?|老伴)?(?:的名字)?"
    # "我叫 余长春" of a transcript; not "俺叫孙子去信用社查", "我叫他去问"
    rf"(?:叫|名叫|姓名是|名字是)\s?(?!{_KIN}|{_GRANDCHILD}|他|她|你|[\u4e00-\u9fa5]{{1,3}}去)"
    r"[\u4e00-\u9fa5]{2,4}|"
    r"^(?:写|留)?(?:我|俺)(?:爸|妈|爹|娘|父亲|母亲|爷爷|奶奶|老伴)的?名字?[，,\s]*(?:她|他)"
    r"(?:叫|名叫)\s?[\u4e00-\u9fa5]{2,4}|"  # "写我妈的名字 她叫陈桂芝"
    r"(?<![别不莫])写上\s?[\u4e00-\u9fa5]{2,4}(?=\s|[，,。]|$)"  # "写上 蒋德明 我怕个鬼"
)
_NAMED_FIRM = re.compile(r"不(?:用|要|需要|必)匿名|用不着匿名|不怕|实名")
_NOT_NAMED = re.compile(
    r"不(?:要|想|愿意|敢)?(?:实名|留名)|别留名|(?:莫|别|不要|不能|不)写(?:我|俺|上我|上俺)?(?:的)?名|"
    r"(?:莫|别|不要|不能|不)写上"
)
_NO_PHONE = re.compile(
    r"不留|没有电话|没电话|不方便留|不想留|不给|不用了|算了|冇得电话|没有?手机|没得电话|莫得电话|"
    r"(?:没|冇|莫)得?(?:手机|座机)|"  # "我没得手机，座机也没得"
    # "这是借别人的", "手机是借的": a borrowed phone will not reach them
    r"借(?:别人|人家|邻居|儿子|闺女|女儿|孙子|孙女|亲戚)?的(?:手机|电话)?|(?:手机|电话)是借的|"
    r"打不(?:到|着|通)(?:我|俺)|"
    r"^(?:我|俺)?(?:也)?(?:不知道|不晓得|不记得|记不得|记不住|没有|没得|莫得)(?:啊|呀|了|哦)*$"
)
_THIS_PHONE = re.compile(r"这个号|本机|就打这|这个电话|现在这个|来电号码|打进来的|就这个")
_NAME_LEAD = re.compile(
    r"^(?:(?:我|俺)(?:爸|妈|爹|娘|父亲|母亲|爷爷|奶奶|老爹|老娘|老头子?|老伴)(?:叫|名叫)|"
    r"我叫|俺叫|我是|俺是|我姓名|名字叫|名字是|叫|姓名|我的名字是|就叫|她叫|他叫)[:：]?"
)
_RELATIVE_LEAD = re.compile(
    r"^(?:我|俺)(?:爸|妈|爹|娘|父亲|母亲|爷爷|奶奶|老爹|老娘|老头子?|老伴|外公|外婆|姥姥|姥爷)"
)
_BARE_NAME = re.compile(r"^[\u4e00-\u9fa5]{2,4}$")
_NOT_A_NAME = re.compile(
    r"不|没|了|匿名|留名|知道|晓得|说|村|镇|乡|组|电话|好的|可以|是的|对|姓|我|网格|也|又|写|名字|实名|都|就|怕|事|她|他|你|"
    rf"^(?:{_KIN})|^孙[子女儿]$"  # "俺叫孙子去信用社查": a grandson sent to ask, no name
)


# The words 匿名/留名/实名 themselves (with their negations) decide over what only hints at a
# choice: "匿名，写名字又要被穿小鞋" is anonymous, "留名吧 你们保密就行" is named.
_EXPLICIT = re.compile(
    r"(?P<named>不(?:用|要|需要|必|想|愿意)?匿名|用不着匿名|没必要匿名)"
    r"|(?P<anonymous>不(?:要|想|愿意|敢|用)?(?:留名|实名)|别留名|匿名)"
    r"|(?P<named_word>留名|实名)"
)
_QUESTION_CLAUSE = re.compile(r"[^，。,.!！?？\s]*[?？]")


def without_questions(text: str) -> str:
    """The text without its clauses that ask ("…，存哪去了？" left out)."""
    return _QUESTION_CLAUSE.sub("", text)


# A choice only supposed ("匿名了你们回头核实也找不着人", "实名的话…", "留名又咋样") is no
# choice, unless settled on ("那就匿名了"); nor one taken back at once ("匿名……不对 算了").
_SETTLING = re.compile(r"(?:还是|就|干脆|改成|改为)$")
_SUPPOSED = ("了", "的话", "又咋样", "又怎样", "又怎么样", "有啥用")
# The word asked about, not chosen: "匿名是啥 就是不写名字是吧 那不用 我不怕 写我名字".
_ASKED_ABOUT = ("是啥", "是什么", "啥意思", "什么意思", "是个啥", "是咋", "是怎么", "是不是")
_TAKEN_BACK = re.compile(r"[…\.。，,、\s]*(?:不对|算了|不行|不好|不要了)")


def _explicit_choice(text: str) -> str | None:
    """The last of the words 匿名/留名/实名 said outside a question ("能保密吗？那就留名"),
    leaving out a choice only supposed ("还是留名吧，匿名了你们找不着人" is 留名)."""
    statement = _QUESTION_CLAUSE.sub("＿", text)
    choices = [
        "anonymous" if m.group("anonymous") else "named"
        for m in _EXPLICIT.finditer(statement)
        if not _TAKEN_BACK.match(statement, m.end())
        and not statement.startswith(_ASKED_ABOUT, m.end())
        and (
            m.group("named")
            or not statement.startswith(_SUPPOSED, m.end())
            or _SETTLING.search(statement[: m.start()])
        )
    ]
    return choices[-1] if choices else None


_SETTLED = re.compile(r"(?:就|那)(?:还是)?(?:匿名|留名|实名)")


def settled_after_question(text: str) -> str | None:
    """The choice a resident makes in the same breath as a question about anonymity, on the
    condition the answer meets ("村里看得到不？看不到的话就匿名"): the explanation says the
    village never sees it, so the choice stands. Only a choice marked 就/那 counts."""
    statement = _QUESTION_CLAUSE.sub("＿", text)
    return _explicit_choice(text) if _SETTLED.search(statement) else None


def anonymous_beside_question(text: str) -> bool:
    """匿名 chosen in a clause of its own next to a question about it ("匿名，匿名了村里不会
    知道是我吧？", "能不能不写？还是匿名吧"): the safe choice stands once explained. 留名
    said so needs the condition settled (``settled_after_question``): never named in doubt."""
    return _explicit_choice(text) == "anonymous"


_INDIFFERENT = re.compile(r"无所谓|都行|都可以|随便|哪个都|咋样都|怎么都")
_EITHER_OR = re.compile(
    r"(匿名|留名|实名)(?:不|没|还是)\1的?|(?:匿名|留名|实名)(?:还是|或者|或)(?:匿名|留名|实名)"
)


def names_plainly(text: str) -> bool:
    """留名 said in so many words (留名, 实名, 不用匿名, 不怕), or with the name itself: what
    a choice of 留名 said in passing, unasked, must rest on. A hint alone ("我的名字冇报上去"
    in a story) never names a resident who was not asked."""
    return bool(_explicit_choice(text) == "named" or _NAMED_FIRM.search(text) or gives_name(text))


_NAME_FOR_US = re.compile(
    r"名字(?:可以|能|就)?(?:告诉|给|留给)(?:你们|您|恁)|(?:回电话?|打电话|联系)(?:好|方便)?找(?:我|俺)"
)
_VILLAGE_NOT_TOLD = re.compile(r"(?:别|不要|不想|不能|莫)让[^，。,]{0,8}(?:知道|晓得)")


def answer_anonymity(text: str, intent: str | None) -> str | None:
    """'anonymous' or 'named' for "匿名还是留名？". 是/对 means yes, anonymous; 不 means named."""
    if _HAD_MEANT.search(text) and not _NAMED.search(text):
        return None  # "我本来想匿名的": what they choose now is still to come
    text = re.sub(f"(?:{_HAD_MEANT.pattern})[^，。,.!！?？]*", "＿", text)  # 本来想匿名的，…
    text = _EITHER_OR.sub("＿", text)  # "么事匿名不匿名的，…莫写我名字": the words waved away
    if explicit := _explicit_choice(text):
        return explicit
    if _INDIFFERENT.search(text) and not (gives_name(text) or _NAMED_FIRM.search(text)):
        return "anonymous"  # "匿名还是留名无所谓": never named by default
    named = [m.end() for m in _NAMED_FIRM.finditer(text)]
    rest = _NAMED_FIRM.sub(lambda m: "＿" * len(m.group()), text)  # 不用匿名 is no 匿名
    if _NAME_FOR_US.search(text) and gives_name(text):
        # "名字可以告诉你们，我叫胡玉梅，你们回电话好找我，就是别让村里知道是我说的": the name
        # is for the callback; the village never learns who reported, named or not.
        rest = _VILLAGE_NOT_TOLD.sub(lambda m: "＿" * len(m.group()), rest)
    anonymous = [m.end() for p in (_ANONYMOUS, _NOT_NAMED) for m in p.finditer(rest)]
    if not named:
        named = [m.end() for m in _NAMED.finditer(text) if not _NOT_NAMED.search(text)]
    if named or anonymous:
        # "名字可以写，但是别让村干部知道是我反映的，…我叫郑爱华": a name given after the
        # worry is 留名 (a name given alone chooses nothing: "我叫李小红，我要举报").
        named += [m.end() for m in _GIVES_NAME.finditer(text)]
        # "写我名字也不怕…别让村里晓得": what they settle on is what they say last.
        return "named" if max(named, default=-1) > max(anonymous, default=-1) else "anonymous"
    if intent == "affirm":
        return "anonymous"
    if intent == "deny":
        return "named"
    return None


# How a character is spelled out on the phone: 多余的余, 福气的福, 弓长张, 木子李.
_SPELLED = re.compile(
    r"[\u4e00-\u9fa5]{1,3}的([\u4e00-\u9fa5])(?![\u4e00-\u9fa5])|"
    r"弓长张|立早章|木子李|耳东陈|口天吴|双木林|古月胡|草头黄|言午许|干钩于|禾呈程|三横王|人可何|"
    r"木易杨|子小孙|走肖赵"
)
_SURNAME_FIRST = re.compile(r"(?:我|俺)?姓([\u4e00-\u9fa5])[，,。\s]*(?:叫)?(?=\1)")


def without_spelling(text: str) -> str:
    """A name answer without the spelling of its characters ("我是多余的余，余兴旺" → "我是，
    余兴旺") and without a surname said before the full name ("我姓余，余兴旺" → "余兴旺")."""

    def spelled(match: re.Match) -> str:
        whole, char = match.group(0), match.group(1)
        return "，" if char is None or char in whole[:-1] else whole

    return _SURNAME_FIRST.sub("", _SPELLED.sub(spelled, text))


# A transcript's hesitations between the words of an answer: "名字是 呃 刘德胜".
_FILLER_WORD = re.compile(r"^(?:呃|嗯|额|啊|哦|那个|就是|这个)+$")


# Words about whose name it is, said with it: "周桂兰，是老人的名字，不是我的".
_WHOSE_NAME = re.compile(r"名字|不是我|是我的?$|老人|她|他|我妈|我爸|本人")


# A phone said with the name: "电话你记一下13855012376", "手机是 138 5501 2376".
_PHONE_SAID = re.compile(
    r"(?:我的|俺的)?(?:电话|手机|号码)?(?:号码?)?(?:是|就是|你记一下|记一下|你记下|记下|你记着)?"
    r"[:：]?[\d\s-]{7,}"
)


def answer_name(text: str) -> str | None:
    """A name given as the whole answer to "您叫什么名字？" ('王秀英', '我叫王秀英')."""
    text = _PHONE_SAID.sub("，", without_spelling(text))  # "鲍长青，电话你记一下138…"
    parts = [p for p in re.split(r"[\s，。,.!！?？]+", text) if p and not _FILLER_WORD.match(p)]
    if len(parts) > 1:
        # "我是，余兴旺" (its spelling taken out): one name, and nothing else but a word or two
        # ("名字是 呃 刘德胜": the lead-in of the answer).
        names = [(p, answer_name(p)) for p in parts]
        named = [name for _, name in names if name]
        rest = [p for p, name in names if not name]
        short = all(len(p) <= 2 or _NAME_LEAD.fullmatch(p) or _WHOSE_NAME.search(p) for p in rest)
        if len(named) == 2 and short:
            # "刘志强，我爸叫刘永福": their own name, and the parent's they file for.
            own = [name for p, name in names if name and not _RELATIVE_LEAD.match(p)]
            return own[0] if len(own) == 1 else None
        if len(named) == 1 and short:
            return named[0]
        return None
    text = "".join(parts)
    bare = re.sub(r"[\s，。,.!！?？的吧呀啊]+", "", text)
    bare = _NAME_LEAD.sub("", bare)
    if _BARE_NAME.match(bare) and not _NOT_A_NAME.search(bare):
        return bare
    return None


def better_name(found: str | None, whole: str | None) -> str | None:
    """Of the name the entity finder found and the name the whole answer is, the answer's when
    one holds the other ("余" in "我姓余，余兴旺"; "字黄丽萍" of "留名字，黄丽萍")."""
    if whole and (not found or whole in found or found in whole):
        return whole
    return found


def gives_name(text: str) -> bool:
    """ "写我名都得，我叫黄志伟": a name given in answer to "匿名还是留名？" chooses 留名."""
    return bool(_GIVES_NAME.search(text))


def name_said(text: str) -> str | None:
    """The name in "…，我叫黄志伟" said along with another answer."""
    text = without_spelling(text)  # "我叫 余长春 多余的余 长短的长"
    for match in _GIVES_NAME.finditer(text):
        last = re.split(r"[\s，,]+", match.group())[-1]  # "写我妈的名字 她叫陈桂芝"
        if name := answer_name(match.group()) or answer_name(last):
            return name
    return None


_CORRECTED_NAME = re.compile(
    r"(?<!不)(?:是|叫|改成|改为|应该是|写成)[“\"']?([\u4e00-\u9fa5]{2,4}?)[”\"']?(?=[，。,.！!；;\s]|$|的)"
)


def corrected_name(text: str, current: str | None = None) -> str | None:
    """The name in a read-back correction ("名字写错了，是张国福，福气的福，不是富贵的富";
    "不是张国富，是张国福" when the name read back was 张国富)."""
    about_name = re.search(r"名字|(?<![村实匿留署具])名|姓", text)  # 村名, 实名: no name
    text = without_spelling(text)
    for match in _CORRECTED_NAME.finditer(text):
        name = match.group(1)
        if _NOT_A_NAME.search(name) or re.search(r"写错|错了|名字", name):
            continue
        if about_name or (current and name != current and name[0] == current[0]):
            return name
    if about_name:  # "名字你别写成干钩于了，我是多余的余，余兴旺": the last clause that is a name
        for part in reversed(re.split(r"[\s，。,.!！?？；;：:]+", text)):
            if part and (name := answer_name(part)) and name != current:
                return name
    return None


_TAIL_WORDS = re.compile(r"尾号|后几位|后[2345两三四五]位|最后[2345两三四五几]?位|末尾")
_TAIL_DIGITS = re.compile(r"(不是|不)?[^0-9不]{0,3}?(\d{2,5})(?!\d)")


def corrected_phone(text: str, current: str | None) -> str | None:
    """A phone corrected at the read-back: a whole new number, or only its last digits
    ("尾号是6620，不是6602"; "尾号不是6602，是6620")."""
    digits = to_digits(text)
    if phone := find_phone(digits):
        return phone
    words = _TAIL_WORDS.search(digits)
    if not words or not current or current == "none":
        return None
    for match in _TAIL_DIGITS.finditer(digits, words.end()):
        tail = match.group(2)
        if not match.group(1) and len(tail) < len(current):
            return current[: -len(tail)] + tail
    return None


def answer_phone(text: str, channel_phone: str | None) -> str | None:
    """A phone number, 'none' when the resident will not leave one, or the number the resident
    is calling or texting from when they say "就打这个号"."""
    phone = find_phone(text)
    if phone:
        return phone
    # "一三九，那个……零五五，后边是七六二八一": one number read out in pieces, words between.
    pieces = "".join(digit_runs(text))
    if (
        len(pieces) == 11
        and find_phone(pieces)
        and _FEW_WORDS.fullmatch(_PIECE_WORDS.sub("", text))
    ):
        return pieces
    if channel_phone and _THIS_PHONE.search(text):
        return channel_phone
    if _NO_PHONE.search(text):
        return "none"
    return None


# What may stand between the pieces of a number read out: fillers, not a story.
_PIECE_WORDS = re.compile(
    r"[\d\s，。,.、…—\-：:]|[零〇一二三四五六七八九幺两洞拐]|那个|就是|后边|后面|后头|前边|前面|"
    r"接着|然后|再是|是|嗯|啊|呃|哦|电话|号码|手机|我的|俺的|记一下|你记|记好"
)
_FEW_WORDS = re.compile(r"[\u4e00-\u9fa5]{0,4}")


def digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in to_digits(text))


_SELF_TALK = re.compile(
    r"不过|但是|可是|你们|您们|恁们|你|您|恁|我们|俺们|我|俺|咱|是|的|了|啊|吧|呀|哈|嘛|呢|那个|这个|"
    r"就是|村民|居民|家住|住在|想|要|来|反映|举报|说|讲|个|一下|下|么|啥|事情|事|问题|情况|同志|你好|喂|电话|手机"
)


def only_who_and_where(text: str, place_said: str | None = None) -> bool:
    """ "我叫刘秀兰，杨店村的，不过你们别登记我名字啊": who is speaking, from where, and how to be
    named, but no matter yet; the story is still to be asked for."""
    says_who = any(p.search(text) for p in (_GIVES_NAME, _ANONYMOUS, _NOT_NAMED, _NAMED))
    if not says_who and not place_said:
        return False  # "坏了": a piece of story, however short
    rest = without_spelling(text)
    for match in _GIVES_NAME.finditer(rest):
        rest = rest.replace(match.group(), "，")
    for pattern in (_ANONYMOUS, _NOT_NAMED, _NAMED):
        rest = pattern.sub("，", rest)
    if place_said:
        rest = rest.replace(place_said, "，")
    rest = re.sub(r"[\d\s，。,.!！?？、~…：:；;]+", "", rest)
    rest = re.sub(r"[\u4e00-\u9fa5]{1,4}(?:村|镇|乡|组|社区)", "", rest)
    rest = _SELF_TALK.sub("", rest)
    return len(rest) <= 1
