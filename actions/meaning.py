"""What kind of message this is, from its words: a question, a yes or a no, a refusal, a rating,
a story. Pure functions. Intents from the model are a hint; these rules catch what residents say
in every register (俺要说个么事, 恁说这事管不管, 中, 要得) whatever intent the model guessed."""

from __future__ import annotations

import re

from actions.wording import han_count
from common.digits import find_case_number, to_digits

_PUNCT = re.compile(r"[\s，。、,.!！?？~…：:；;“”\"'（）()]+")
_YES = re.compile(
    r"^(?:对|对的|对呀|对啊|是|是的|是啊|没错|没问题|正确|好|好的|行|可以|嗯|嗯嗯|中|要得|对头|"
    r"是滴|对滴|确认|没得错|就是|就是这样|要|需要|接着|继续|接着登记|1)(?:的|了|啊|呀|吧|嘞|哈)*$"
)
_NO = re.compile(
    r"^(?:不对|不是|错了|不|没有|不要|不用|不用了|算了|不需要|不行|否|不对不对|弄错了|2)"
    r"(?:的|了|啊|呀|吧|嘞)*$"
)
_QUESTION = re.compile(
    r"[?？]|吗$|么$|(?<!爱)管不管|会不会|能不能|可不可以|是不是|有没有|咋办|怎么办|"
    r"(?<!把我)(?<!把俺)怎么样|多久|几天|"
    r"什么时候|啥时候|多长时间|啥意思|什么意思|为啥|为什么|咋个|哪个部门|(?<![爱谁])找谁|"
    # "还给不给", "按人头发还是按地发…发不发": asked without a question mark
    r"([给发能算])不\1|"
    # "以后还打给俺不", "能领不": asked with a final 不
    r"(?:还(?!是)|能|可以)[^，。,.!！?？\s]{1,6}不[啊呀哦嘛]?$|"
    # "啥条件能领，上哪儿去申请", "补贴是给我还是给种地的人": asked without a question mark
    r"(?:啥|什么)(?:条件|钱|待遇|手续)|(?:上|去|到)哪(?:儿|里|块|点)?(?:去)?(?:申请|办|领|报)|"
    r"是(?:给|归|发给)[^，。,.!！?？]{1,10}还是"
)
_ASKS_ABOUT_ANONYMITY = re.compile(
    # "你们会不会把我的手机号给村里？"
    r"(?:手机号|手机|电话|号码|名字)[^，。？?]{0,8}(?:给村里|告诉村|给村干部|让村里|让村干部|泄露|透露)|"
    r"(?:匿名|留名|名字).{0,16}(?:知道|晓得|报复|安全|暴露|泄露|啥意思|什么意思|会不会|有没有事|"
    r"保密)|"
    r"(?:会不会|怕|担心)[^，。,.!！?？；;]{0,12}(?:知道|晓得|报复|打击|穿小鞋|找我麻烦|整我)|"
    # "你们这边会不会告诉村里是谁打的电话？"
    r"(?:会不会|会|能不能|怕|担心)[^，。,.!！?？；;]{0,8}告诉[^，。,.!！?？；;]{0,8}"
    r"(?:是谁|是我|谁打|谁反映|谁举报|谁告)|"
    r"(?:不想|不要|别)让.{0,6}(?:知道|晓得).{0,4}(?:是我|我反映)|"
    # "能不能不报名字？", "可以不留名吗"
    r"(?:能不能|可不可以|可以|能)不(?:报|留|写|说|登记)(?:我的?|俺的?)?(?:名字|名|姓名)"
)
_ASKS_IF_HANDLED = re.compile(r"管不管|能不能管|归不归|管得了|能管吗|管吗|归你们管|受不受理")
_ASKS_WHEN = re.compile(r"多久|几天|什么时候|啥时候|多长时间|啥时|哪天")
_REFUSE_PLACE = re.compile(r"不知道|不晓得|不清楚|不说|不想说|不方便|保密|不告诉|说不好|记不得")
_BARE_REQUEST = re.compile(
    r"^(?:喂|你好|您好|那个|嗯|啊|就是|同志|领导|师傅)*"
    # "帮我爷爷问问": for a relative or a neighbour
    r"(?:(?:我|俺)?(?:想|要)?(?:帮|替|给|代)(?:我|俺|咱)?家?(?:爷爷|奶奶|爸爸?|妈妈?|爹|娘|父亲|"
    r"母亲|老人|外公|外婆|姥姥|姥爷|邻居|老伴|婆婆|公公|老头子?|阿妈|阿爸|阿婆|阿公|老豆))?"
    r"(?:我|俺|咱|偶)?(?:们)?"
    r"(?:要|想|得|来|有)?(?:(?:跟|和|给|同|向)(?:你|您|恁)们?)?"  # "跟你们说个事"
    r"(?:举报|反映|投诉|告状|说说?|讲讲?|问问?|咨询|打听)(?:一下|一个|个|点|些|哈子|一哈|下子)?"
    r"(?:么事|嘛事|啥事|什么事|事|事情|问题|情况|村里的事|个事|事儿|啲嘢|啲事|件事)?(?:儿|哈|啊|呀)*"
    # "俺跟恁说个事儿中不中": asking leave to tell
    r"(?:[，,\s]*(?:中不中|中不|行不行|行不|好不好|成不成|成不|可以不|行吗|好吗|可以吗|中吗))?"
    r"[啊呀哈嘛]*$"
)
# "跟你们说个我们村光伏的事": the matter announced, the story to come (not a request for a
# person, whatever the intent model says).
_ANNOUNCES_MATTER = re.compile(
    r"^(?:我|俺|咱)?(?:们)?(?:要|想|来)?(?:跟|和|给|同|向)(?:你|您|恁)们?"
    r"(?:说|讲|反映|汇报|唠)(?:一?个|一下|件|点|些)[^，。,.!！?？]{1,14}(?:的)?(?:事|事情|问题|情况)"
)
_RATING = re.compile(r"满意|不满|差评|好评|还行|凑合")
_DISSATISFIED = re.compile(
    # 唔/冇/莫 (粤、西南): 不; "满意个屁", "满意啥": said to mean the opposite
    r"(?:不|唔|冇|没|莫|勿)(?:太|怎么|咋|大|是很|得)?满意|不满|差评|"
    r"满意(?:个|个啥|啥|什么|个什么|才怪|不了|不起来)|满什么意|(?:哪|咋|怎么)(?:里|儿|个)?满意"
)
_ASKS_RATING = re.compile(r"满意不满意|满不满意|满意还是不满意|满意不(?![了起])")
# What says the matter is still not put right, said with a rating ("桥面一下雨还是一滩水").
_STILL_BAD = re.compile(
    r"(?:还是|依然|仍然|照样|照旧|依旧|依家还是)(?:没|冇|不|老样子|一样|黑|坏|漏|一滩)|"
    r"跟没(?:修|办|弄|搞)一样|(?:没|冇|没有)(?:解决|修好|办好|弄好|搞好|搞掂|落实|到位)"
)
_PARTLY = re.compile(r"基本|还行|凑合|一般|还算|马马虎虎|还可以")
_WANTS_PERSON = re.compile(
    r"转.{0,2}人工|人工客服|人工服务|找人工|要人工|真人|活人|接线员|工作人员接|找个人说|跟人说|"
    r"当面|找个人(?!比|都|也|难|真难|太难)|有没有人接|来个人|叫个人|换个人|转个人|"
    r"(?:叫|派|喊)(?:个|一个|位)?(?:你们的?)?(?:工作人员|人工|真人)|"
    r"找(?:个|一个|位|你们的?)(?:工作人员|人工|真人)|"
    r"(?:叫|让|请)[^，。]{0,8}(?:给我打电话|打电话给我|给我回电)|你是机器|"
    # "别问了 直接让人打我电话 1872…"
    r"(?:叫|让|请|派)(?:个|你们的?)?(?:人|工作人员)(?:直接)?(?:打|回)(?:我|俺)的?电话"
    r"(?=[\s，。,.!！]|\d|$)|"
    r"跟机器|机器人说不清|"
    r"你解决不了|你们解决不了|(?:跟|和|同)(?:你们)?的?(?:工作人员|人工)(?:直接)?(?:说|讲|谈|聊)|"
    r"安排.{0,3}人.{0,6}(?:回电|回个电话|打电话|打个电话)|"
    r"(?:跟|和|同|找)你们(?:的)?(?:纪委|同志|干部|领导)(?:的)?(?:同志|人)?(?:直接)?(?:说|讲|谈|聊)|"
    r"(?:跟|和|同)纪委(?:的)?(?:同志|人)(?:直接)?(?:说|讲|谈)|"
    r"见领导|找领导|跟领导|叫领导|让领导|领导.{0,4}(?:谈|说|见)|转接|(?:找|叫|喊)你们(?:的)?领导|"
    # "你们那有没有个人能接电话跟俺说说"
    r"有没有(?:个|一个)?人(?:能|可以|来)?(?:接|听|跟|和)|值班的|值班人员|"
    # "你这个机器听不懂…搞个人来跟我讲"
    r"(?:搞|弄|找)(?:个|一个)人来(?:跟|和|同|听|接)|"
    # "我要直接找县纪委的人，你给我转过去"
    r"找(?:县|县里|上面|上级|市)?纪委(?:的)?(?:人|同志|领导)|给我转过去|转给(?:县|上面)?纪委"
)
_JUST_ASKING = re.compile(
    r"就是问问|只是问问|问一下而已|先不反映|不是要反映|不反映|先不登记|不用登记|不登记|随便问问|"
    r"不是要投诉|不是投诉|不投诉|先问问|问问政策|不是举报|不举报|不是告(?!诉)|不是要告(?!诉)|不告(?!诉)"
)
_LOST_NUMBER = re.compile(
    r"(?:号|编号|号码|条子|纸).{0,6}(?:找不到|丢了|忘了|不记得|记不得|没了|没记|没有记)|"
    r"(?:不记得|没记|忘了).{0,3}号|^没记"
)
_STATUS_WORDS = re.compile(
    r"查询|查一下|查查|进度|办得怎么样|办到哪|结果出来|有结果|办好了没|咋样了|怎么样了|"
    r"处理了没|办了没|有没有回音|有回音|有信儿|有消息|"
    # "俺那个高龄津贴的事办好了冇"
    r"(?:办|处理|弄|搞)(?:好|完)了?(?:没|冇|吗|么|不|莫得|没有)|(?:到|在)哪一步|"
    r"给了?(?:我|俺)?(?:个|一个)号"
)


_HOW_TO = re.compile(
    r"怎么申请|咋申请|如何申请|怎样申请|怎么办理|咋办理|怎么办|去哪(?:里|儿)?(?:办|申请|领|问|登记|报名|找|交)|带什么|要带啥|(?<![爱谁])找谁|什么条件|啥条件|哪些条件|"
    r"能不能领|能领吗|能不能享受|怎么领|咋领|有啥待遇|什么待遇|啥政策|什么政策|政策是|"
    r"怎么算|咋算|要什么材料|要啥材料|需要什么材料|有没有这个|多少钱一个月|"
    r"归哪里管|归谁管|打什么电话|找哪个部门|哪个部门管|该找谁|还有没有|到哪里去办|去哪里办|在哪办|"
    r"怎么弄|咋弄|怎么搞|咋整|能补多少|补多少|给多少|有什么要求|啥要求|谁能申请|哪些人能|条件是|"
    r"要交什么|能不能申请|可以申请吗|能申请吗|怎么报名|咋报名|在哪报名|怎么报|是什么政策|是啥政策|"
    r"干啥的|什么意思|是啥意思|啥子意思|"
    r"能不能办|怎么个办法|啥手续(?!费)|什么手续(?!费)|能领多少|领多少|够不够条件|"
    # "要去哪点申请嘛", "有个啥子补贴，是不是真的哦" (西南): where, and whether it exists
    r"(?:去|到|上|在)哪(?:点|个地方|哈|块|旮旯|里|儿)?(?:去)?(?:办|申请|领|问|登记|报名|找|交)|"
    # "要啥子条件才有得", "还系不系发俾我的？定系发俾合作社？" (粤): who gets it, and on what terms
    r"(?:啥子?|什么|么子)条件|(?:系不系|系唔系)[^，。？?]{0,3}(?:发|俾|给)|"
    r"有个(?:啥子?|什么|么子)(?:钱|补贴|补助|待遇)[^，。,.!！?？]{0,4}[，,\s]*是不是真的|"
    r"(?<!不)够条件|够不够|符合条件吗|能不能评|能评上吗|多大年纪|多大岁数|(?<![十一二两三四五六七八九\d])几岁|多少岁|年满多少|"
    r"发多少|一年多少|一个月多少|每个月多少|每月多少|多少钱一年|多少钱一个月|可以领|可不可以领|"
    r"能不能拿|能拿多少|有没有份|有份吗|发给谁|该给谁|归谁领|([给发])(?:俺|我|他|她|咱)(?:们)?不\1|"
    # "地包出去了，种粮的钱以后还打给俺不": whose the money is now
    r"还(?:打|发|给|补)给?(?:俺|我|咱)(?:们|家)?(?:不|吗|么)|还能领(?:不|吗|么)|"
    # "咋个算的嘛", "找哪个领", "要去哪里批，要准备些什么": the same, as people say them.
    # Not "这咋办", "咋个搞嘛": a plea for help with a grievance, no question about a policy.
    r"(?:咋个?|怎么个?|怎个|怎样|如何|咋样|啷个|哪门|咋子|么样|么子样)(?:算|申请|领|批|审批|报名|批准)|"
    # "要到哪块去报？", "是找村上还是找镇上？"
    r"(?:找|去|到|上)哪(?:个|里|儿|块|边)?(?:去|来)?(?:领|办理|办|批|审批|申请|报名|报|交)|"
    # "现在补交还来得及不？"
    r"来得及|来不来得及|能不能补交|可以补交|还能补交|"
    r"找[^，。,.!！?？\s]{1,4}还是找|"
    # "流转费是给村里还是直接给我们个人？合同是跟谁签？"
    r"(?:给|归|发给|交给)[^，。,.!！?？\s]{1,6}还是(?:直接)?(?:给|归|发|交)|(?:跟|和|同)谁签|"
    # "种粮的钱是按户口人头发还是按地发", "残疾人的钱是不是也可以申请"
    r"按[^，。,.!！?？\s]{1,6}还是按|"
    r"(?:是不是|能不能|可不可以)也?(?:可以|能)?申请|也(?:可以|能)申请|"
    r"(?:要|得|需要)?准备(?:些|点|哪些)?(?:什么|啥|啥子|哪些)"
)
# A question put as a question ("俺问个事儿", "请问") that tells of nothing done wrong.
_ASKING = re.compile(r"问一下|问个事|问件事|问问|想问|请问|咨询|打听")
_WRONGDOING = re.compile(
    r"没给|没发|不给我|不给俺|扣了|克扣|贪|挪|占了|冒领|关系户|优亲厚友|凭什么|卡着|拖着|不公|"
    r"没得了|报漏|漏报|给漏了|漏掉了|"  # "去年下半年就没得了…会计说我名字报漏了"
    r"(?:没|没有)(?:评|批|报|选)上|说(?:俺|我|他|她)?不够(?:条件|格)|"  # "村里说俺不够条件"
    r"回扣|私分|私自|偷偷|骗|拿走|领走|取消了|停了|一分钱都|没有了|没了|莫得了|冇得了|凭啥|"
    r"没修|没动|一直没|钱去哪|钱哪去|钱呢|欠.{0,6}不给|拖欠|欠着不|不结账|"
    r"被.{0,4}(?:拿|领|占|扣|删|取消|顶)|说好.{0,10}(?:到手|只给|只发)|只给了|少给|少发|"
    r"电话不接|不接电话|骂人|见不着|找不到人|找不着人|不办事|推来推去|踢皮球|不管不问|"
    r"到手(?:只有|才|就)?[\d一二两三四五六七八九十百千万]|到(?:我|俺)?手上?(?:只有|才|就)|"
    # "村里计生专干一直不给她报…我妈跑了四五趟了": refused on someone's behalf, in vain
    r"不给(?:她|他|咱|我们|俺们|人家|我家|俺家)|不给(?:报|办|批|上报|评)|"
    r"跑了[\d一二两三四五六七八九十几好多]{1,3}(?:趟|回|次)|"
    # "村务公开栏一年多没换过了": what must be posted is not
    r"(?:没|不|从来不|从不)(?:换过|更新|公开|公示|张贴)|一年多?没(?:换|更新|公开|贴)"
)


def asks_who(text: str) -> bool:
    """'归哪里管', '找谁', '打什么电话': who handles a matter, not how a programme works."""
    return bool(
        re.search(r"归哪里管|归谁管|归哪管|找谁|打什么电话|哪个部门|哪里管|谁来管|谁管", text)
    )


def asks_how_to(text: str) -> bool:
    """A question about how a programme works ('高龄补贴咋申请'), not a grievance."""
    return bool(_HOW_TO.search(text))


def tells_wrongdoing(text: str) -> bool:
    """Something said to have gone wrong (没给, 扣了, 路一直没修, 钱去哪了)."""
    return bool(_WRONGDOING.search(text))


def asks_policy_at_length(text: str) -> bool:
    """ "恁好，俺问个事儿，俺家的地都流转给大户种了，那个种地补贴还给俺不给？": a long
    question about how a programme works, with nothing said to have gone wrong."""
    return (
        asks_how_to(text)
        and bool(_ASKING.search(text) or is_question(text))
        and not tells_wrongdoing(text)
    )


def compact(text: str) -> str:
    return _PUNCT.sub("", text)


_YES_WORDS = re.compile(
    r"无误|确认|没错|对的|是的|正确|没问题|就这样|提交|对对|是这样|是这么|这么回事|这么个事|"
    # not "说好的占地补偿一亩一千五", "村里说可以报一部分": what someone else said
    r"(?<![说讲谈定约])好的|对头|是这个|就这个事|就是这事|是这个意思|"
    r"(?<![说讲])可以|属实|予以登记|请登记|"
    r"登记吧|同意|准确|一致"
)
_NEGATION = re.compile(r"不对|不是|错了|有误|有错|改一下|改成|不行|不要|不用|别|不")


def is_yes(text: str) -> bool:
    """对, 中, 要得 — or a short sentence of agreement (信息无误，确认提交) with no 不 in it."""
    bare = re.sub(r"^(?:嗯|啊|哦|噢|呃|那|就)+(?=.)", "", compact(text))
    if _YES.match(bare):
        return True
    lead = re.match(
        r"^(?:对|是的|是啊|是呀|是嘞|是咧|是哩|对嘞|对咧|对头|要得|嗯|好|行|没错|可以|中)"
        r"[，,。 !！]",
        text.strip(),
    )
    if lead and len(bare) <= 16 and not _NEGATION.search(bare):
        return True  # "嗯 就是 我家承包地…" of a speech transcript is a story, no yes
    return (
        len(bare) <= 16
        and bool(_YES_WORDS.search(bare))
        and not _NEGATION.search(bare.replace("没问题", "").replace("不错", ""))
    )


_OPENS_WITH_YES = re.compile(r"^(?:嗯|啊|哦)*(?:对|是的|是嘞|没错|对头|要得|就是|中|好)")


def opens_with_yes(text: str) -> bool:
    """ "对头 就是这个事嘛" at the read-back: agreement first and nothing denied — a yes in
    more words, even when the words after it are not ones we know."""
    bare = compact(text)
    return bool(_OPENS_WITH_YES.match(bare)) and not _NEGATION.search(bare)


_DENIED = re.compile(r"(?:不是|并不是|不属于|不关)[^，。,.!！?？\s是]{1,12}")


def denied_parts(text: str) -> list[str]:
    """What a correction says it is not ("不是低保的事", "不是杭埠那个新河")."""
    return _DENIED.findall(text)


def without_denied(text: str) -> str:
    """ "不是低保的事 是那个修桥的钱" → " 是那个修桥的钱": what a correction says it is not is
    no part of what it is."""
    return _DENIED.sub("，", text)


_SELF_CORRECTS = re.compile(r"不对|哦不|说错了|搞错了|讲错了|口误")


def said_in_the_end(text: str) -> str | None:
    """ "东风村，不对，西风村！气糊涂了" → "西风村！气糊涂了": what an answer settles on after the
    speaker corrects themselves (None when they do not)."""
    if not (_SELF_CORRECTS.search(text) or _DENIED.search(text)):
        return None
    last = _SELF_CORRECTS.split(without_denied(text))[-1]
    return last if han_count(last) >= 2 else None


def is_no(text: str) -> bool:
    return bool(_NO.match(compact(text)))


_FILLER = re.compile(r"^(?:嗯|啊|哦|噢|呃|喂|那个|就是|这个|哎|唉|好吧|然后)+$")
_BYE = re.compile(r"再见|拜拜|没事了|没有了|挂了|就这样吧|不说了|谢谢.{0,2}$|好了$|没别的")


def is_filler(text: str) -> bool:
    return bool(_FILLER.match(compact(text)))


_STORY_DONE = re.compile(
    r"^(?:就|大概|差不多)?(?:这些|这么多|这么个事|这个事|这样|说完了|讲完了|完了|没了|没有了)"
    r"(?:了|啦|吧|嘛|啊|哈)*$"
)
_MORE_COMING = re.compile(r"^(?:还有|还有啊|还有个事|另外|再一个|还没说完|没说完|我接着说|接着说)$")


def story_done(text: str) -> bool:
    """ "就这些" after a story told in pieces: the story is complete, no more of it."""
    return bool(_STORY_DONE.match(compact(text)))


def more_coming(text: str) -> bool:
    """ "还有": more of the story follows; nothing to keep from this message itself."""
    return bool(_MORE_COMING.match(compact(text)))


_ASKS_IF_MACHINE = re.compile(
    r"是人不是|是不是人[?？吗啊]|是人吗|是真人吗|是机器(?:人)?(?:吗|吧|呀|啊|嘛|不是)|是不是机器|"
    r"^(?:喂|你好|您好)?[，,\s？?]*有人(?:在)?吗|你是谁[?？]?$|谁在说话|"
    # "是真人还是机器嘛？", "你是机器人还是人啊", "你是啥子哦？"
    r"是(?:真|活)?人还是(?:个)?机器|是机器(?:人)?还是(?:真|活)?人|"
    r"你是(?:啥子?|什么|么子|哪个)(?:东西)?(?:哦|哟|嘛|呀|啊|哈)?(?:[？?]|$)"
)
# Asking for a person outright, not only asking who answers ("给俺找个活人", "转人工").
_DEMANDS_PERSON = re.compile(
    r"转.{0,2}人|人工|找.{0,3}(?:人|领导)|要.{0,2}(?:真|活)人|换.{0,2}人|叫.{0,3}人|说不清|"
    r"不(?:想|要)跟机器|听不懂|(?:跟|和|同)(?:个)?(?:真|活)?人(?:说|讲|谈)"  # "我要跟人说话"
)


def asks_if_machine(text: str) -> bool:
    """ "喂？是人不是？": who is answering, asked, not a demand for a person."""
    return bool(_ASKS_IF_MACHINE.search(text))


def only_asks_if_machine(text: str) -> bool:
    """ "你是机器人还是人啊": asked who answers, with no demand for a person in it."""
    return asks_if_machine(text) and not _DEMANDS_PERSON.search(text) and han_count(text) <= 16


def says_goodbye(text: str) -> bool:
    return bool(_BYE.search(text))


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


def asks_about_anonymity(text: str) -> bool:
    return bool(_ASKS_ABOUT_ANONYMITY.search(text))


_FEAR = re.compile(r"怕|担心|不敢|报复|打击|穿小鞋|找我麻烦|整我|知道是|晓得是|匿名|留名|保密")


def beyond_fear(text: str) -> str:
    """What a message tells besides fear and questions ("我怕他知道了报复我", "你们管不管？"):
    the matter itself, if any."""
    clauses = re.split(r"(?<=[?？])|[，。,.!！；;\s]+", text)
    kept = [c for c in clauses if c and not is_question(c) and not _FEAR.search(c)]
    return "，".join(kept)


def asks_if_handled(text: str) -> bool:
    return bool(_ASKS_IF_HANDLED.search(text))


_ASKS_WHO_HANDLES = re.compile(
    r"谁负责|谁来办|谁来管|谁办|谁处理|经办人|哪个单位|(?:哪个|什么|哪|哪一个)部门"
)


def asks_who_handles(text: str) -> bool:
    """ "谁负责办这个？把经办人的名字告诉我": about a case filed, who handles it."""
    return bool(_ASKS_WHO_HANDLES.search(text))


def asks_when(text: str) -> bool:
    return bool(_ASKS_WHEN.search(text))


_STUTTER = re.compile(r"(?<!\S)([\u4e00-\u9fa5])\s+(?=\1)")


def without_stutter(text: str) -> str:
    """ "我叫 周 周长林": a speech-recognition transcript repeats a character when the caller
    hesitates; the repeat is dropped so names and places are read as said once."""
    return _STUTTER.sub("", text)


def refuses_place(text: str) -> bool:
    return bool(_REFUSE_PLACE.search(text))


_CANNOT_NAME = re.compile(r"不晓得|不知道|说不上|说不清|讲不清|记不得|不记得|不会说|不识字")
_WHERE_WORDS = re.compile(r"咋说|怎么说|叫啥|叫什么|村名|名字|山里|山上|山沟|镇上|离.{0,6}[远近]")
_GRIEVANCE_WORDS = re.compile(r"钱|补|贪|扣|占|没给|不给|不管|没修|骗|收了|分了|吃了")


def cannot_name_place(text: str) -> bool:
    """ "我不晓得咋说，就在山里头，离镇上老远": the place described, not named. An answer to the
    village question, never more of the complaint."""
    return bool(
        _CANNOT_NAME.search(text)
        and _WHERE_WORDS.search(text)
        and not _GRIEVANCE_WORDS.search(text)
        and len(text) <= 40
    )


_INTRO = re.compile(
    r"^(?:喂|你好|您好)*(?:我|俺|咱)(?:们)?(?:是|家是|住在|家住)?[\u4e00-\u9fa5]{1,8}?"
    r"(?:村|镇|乡|社区|组)(?:的|村民|人|居民)?[，,。 ]*"
)


def without_intro(text: str) -> str:
    """'俺是桃园村村民，俺要说个么事' → '俺要说个么事': who is speaking, then what they want."""
    return _INTRO.sub("", compact(text)) or text


_GREETING = re.compile(r"^(?:喂|你好|您好|同志|领导|师傅|是一点通吧|是热线吧|是不是热线|请问)+")
_HAS_A_MATTER = re.compile(
    r"^(?:我|俺|咱)?(?:们)?(?:这里|这儿)?(?:有|想|要)?(?:跟你|跟您|给你|和你|同你)?(?:个|件|点)?"
    r"(?:事|事情|问题|情况)?(?:想|要)?(?:跟你|跟您|给你|和你)?"
    r"(?:问问|问|说说|说|讲讲|讲|反映反映|反映|唠唠|汇报)(?:个|一下|下)?(?:事|事情|情况)?"
    r"(?:你|恁|您|你们)?(?:啊|呀|哈|嘛|哦)*$"
)


# "是那个管村里么事的电话吧": the caller checking where they got through, nothing told yet.
_CHECKS_LINE = re.compile(
    r"电话|热线|一点通|监督|你们这|恁这|这里是|这是|管村里|管事的|反映问题的|是不是.{0,4}(?:地方|这里)"
)


# "还有个事，跟这个不是一码事", "另外一件事": a second matter, said to be one.
_NEW_MATTER = re.compile(
    r"另(?:外)?一(?:个|件|桩|码)|另外(?:个|件)事|(?:不是|不算|不)一(?:码|回|个)事|两码事|两回事|"
    r"不相干|不搭界|不挨着|别的事|其他(?:的)?事|其它(?:的)?事|新的事|新事|又一个事|又一件事"
)
# "还有！", "还有个事儿俺得说一下，", "嗯还有个事就是": going on from what was just told.
_GOES_ON_FROM = re.compile(
    r"^(?:嗯|哦|噢|啊|哎|对了)*[，,\s]*(?:还有|另外|而且|对了|再有|再一个)"
    r"(?:个事儿?|一个事儿?|件事儿?|一件事儿?|一点|个情况)?(?:啊|呀|哈|嘛|哦|儿)*"
    r"(?:[，,\s]*(?:俺|我)?(?:得|要|想)?(?:说一下|说一声|说说|讲一下|跟你说))?[，,：:！!。\s]*(?:就是)?"
)
# What the rest then points back at: the person, the thing or the time just told about.
_POINTS_BACK = re.compile(
    r"^(?:他|她|它|那个|这个|那些|这些|那笔|这笔|那条|这条|那家|老人|俺那|我那|俺家那|我家那|"
    r"当时|后来|上回|那会|那时|还是那|也是那)"
)


def tells_new_matter(text: str) -> bool:
    """'还有个事，跟这个不是一码事…': another matter than the one just told (said near the start;
    "村里说两码事" inside a story is no such thing)."""
    return bool(_NEW_MATTER.search(compact(text)[:20]))


def new_matter_story(text: str) -> str:
    """The story of a second matter without the words saying it is one ("还有个事，跟这个不是
    一码事啊，俺们那个大鱼塘…" → "俺们那个大鱼塘…"); empty when nothing else was said."""
    rest = goes_on_from(text)
    rest = text.strip() if rest is None else rest
    clauses = re.split(r"(?<=[，,。！!；;\s])", rest)
    while clauses and (_NEW_MATTER.search(compact(clauses[0])) or not compact(clauses[0])):
        clauses.pop(0)
    return "".join(clauses).strip()


def goes_on_from(text: str) -> str | None:
    """The words after an opening 还有/另外/对了 ("还有！他上回…" → "他上回…"); None without one."""
    m = _GOES_ON_FROM.match(text.strip())
    return text.strip()[m.end() :] if m and m.end() else None


def points_back(text: str) -> bool:
    """'还有，他上回明着跟我说…', '还有个事就是那个路灯…': more of the matter just told."""
    rest = goes_on_from(text)
    return rest is not None and not tells_new_matter(text) and bool(_POINTS_BACK.match(rest))


def announces_matter(text: str) -> bool:
    return bool(_ANNOUNCES_MATTER.match(compact(_GREETING.sub("", text))))


def is_bare_request(text: str) -> bool:
    """'我要举报', '俺要说个么事', '我跟你讲个事啊': a complaint is coming, not what it is;
    also after a greeting that asks whether this is the line ("喂，是那个管村里么事的电话吧？俺要
    说个么事")."""
    if _ONLY_TO_ASK.fullmatch(compact(_GREETING.sub("", text))):
        return True  # "我不是要告状，就是想打听个政策": the question is still to come
    clauses = [c for c in re.split(r"[\s，。,.!！?？~…]+", text) if c]

    def checks_line(clause: str) -> bool:
        return bool(_CHECKS_LINE.search(clause)) and not (
            _GRIEVANCE_WORDS.search(clause) or tells_wrongdoing(clause)
        )

    if (
        clauses
        and any(map(checks_line, clauses))
        and all(_GREETING.fullmatch(c) or checks_line(c) for c in clauses)
    ):
        return True  # "喂 恁这是管村里事儿的不是": only whether this is the line; the matter next
    if len(clauses) > 1 and all(_GREETING.fullmatch(c) or checks_line(c) for c in clauses[:-1]):
        text = clauses[-1]
    bare = _GREETING.sub("", without_intro(text))  # "俺是桃园村村民，俺要说个么事"
    return any(
        _BARE_REQUEST.match(b) or (b and _HAS_A_MATTER.match(b))
        for b in (bare, _TELL_YOU.sub("", bare))  # "俺来反映个么事，跟恁说说"
    )


_ONLY_TO_ASK = re.compile(
    r"(?:(?:我|俺)?(?:不是|不)(?:要|想|来)?(?:告状|举报|反映|投诉)(?:的)?(?:啊|哈)?)?"
    r"(?:就是|只是|是|就)?(?:我|俺)?(?:想|要|来)?(?:打听|咨询|问问?)(?:一下|下|个|点|些)?"
    r"(?:政策|事|事情|情况|东西)?(?:啊|哈|嘛|哦)?"
)
_TELL_YOU = re.compile(
    r"(?<=.)(?:(?:跟|和|给|同)(?:你|恁|您|你们|恁们)(?:说说|讲讲|说一下|讲一下|说|讲|唠唠)|"
    r"(?:你|恁|您)?(?:给|帮)(?:我|俺)?(?:记下来|记下|记一下|记着|登记一下|登记|记录一下|记录))"
    r"(?:啊|哈|吧)?$"  # "俺说个事恁给俺记下"
)


_CAN_REPORT = re.compile(
    r"(?:可不可以|能不能|可以|能|是不是)(?:在)?(?:这里|这儿|你们这|这)?(?:反映|投诉|举报|说)|"
    r"(?:归不归|是不是)你们(?:这)?管"
)


def asks_can_report(text: str) -> bool:
    """ "工钱的事情可不可以在这里反映的": a complaint is coming; the matter not told yet."""
    return bool(_CAN_REPORT.search(text))


_UPSET = re.compile(
    r"气死|气人|太气|欺负人|欺负到|没天理|没(?:有)?王法|有没有王法|讲不讲理|什么世道|"
    r"受不了|窝火|憋屈|太过分|烦死|还让不让人活"
)


def only_upset(text: str) -> bool:
    """ "气死我了": feelings first, the matter still to come."""
    return bool(_UPSET.search(text)) and han_count(text) <= 10


# Anger at the line or the cadres in general, threats of going higher: no matter in it yet.
_FED_UP = re.compile(
    r"干啥吃的|干什么吃的|吃干饭|有啥用|有什么用|有没有用|管不管事|顶不顶用|管用不|摆起看|在耍|"
    r"耍人|耍我|没人管|没人理|踢皮球|"
    r"打了.{0,4}(?:回|次|遍|个)(?:电话)?|电话打了|再不管|不管的话|上访|拉横幅|找你们领导|"
    r"(?:去|上|到)(?:北京|省里|市里|县里)|告到|中不中|搞什么|搞么子|搞啥|什么玩意|啥玩意|"
    r"都是贼|是贼|贪官|王八蛋|混蛋|不是东西|黑心|狗东西|说到做到|等着瞧|走着瞧"
)
# Words that name a matter: with them, the anger comes with something that happened.
_CONCRETE = re.compile(
    r"钱|低保|五保|补|贴|款|费|路|桥|渠|井|地|房|账|分红|工资|粮|林|塘|选举|票|占|扣|贪了|"
    r"拿了|给了|盖|修|租|卖|批|证明|章|医保|社保|养老|救助|名额|亲戚|小舅子|儿子|侄|"
    # "村主任一个月有二十天不在村里！办个事找不到人，打电话也不接": a cadre never there
    r"不在村|找不到人|找不着人|不接电话|电话.{0,4}不接|不在岗|不上班|不办事"
)


def fed_up(text: str) -> bool:
    """ "你们这帮玩意儿是干啥吃的！打了八百回电话没人管", "再不管俺就去北京": anger or a
    threat, but nothing said yet about what happened — the story is still to be asked for."""
    return bool(_FED_UP.search(text)) and not _CONCRETE.search(text)


_REPEAT = re.compile(
    r"再说一[遍次下]|再讲一[遍次下]|重说一[遍次下]|重复一[遍下]|说慢(?:一)?[点些]|慢(?:一)?[点些]说|"
    r"讲慢(?:一)?[点些]|没听清楚?|听不清楚?|没听见|没听到|听不见|你说啥|你说什么|你讲啥|"
    r"刚才说(?:的)?(?:啥|什么)"
)
# What may come with the request besides it: "你说慢一点 我没听清 再说一遍".
_REPEAT_FILLER = re.compile(
    r"你|您|恁|我|俺|啊|哦|嗯|呃|喂|那个|一下|请|麻烦|再|刚才|好吗|行吗|吧|呀|大声点?|清楚"
)


def asks_to_repeat(text: str) -> bool:
    """ "你说慢一点 我没听清 再说一遍": the last turn again. Nothing else may be said with it:
    "啊你说什么哪个村哦杨点村" answers the question, and "俺再念一遍，二二四二…" is a number."""
    if not _REPEAT.search(text) or wants_person(text):
        return False
    rest = to_digits(_REPEAT_FILLER.sub("", _REPEAT.sub("", text)))
    return han_count(rest) <= 1 and not any(ch.isdigit() for ch in rest)


def wants_person(text: str) -> bool:
    return bool(_WANTS_PERSON.search(text))


def just_asking(text: str) -> bool:
    """'我就是问问归谁管，先不反映': a question, not a complaint to file."""
    return bool(_JUST_ASKING.search(text))


def wants_to_rate(text: str) -> bool:
    """'我要给那个路灯的事打个分', '评个满意', '我说一下满不满意': a rating is coming (or
    given)."""
    return bool(_ASKS_RATING.search(text)) or bool(
        re.search(
            r"打分|打个分|评价一下|评个价|我来评价|我要评价|想评价|给个评价|怎么评价|咋评价|如何评价|"
            r"(?:来|要|想)评一?(?:下|评)|"  # "说是办完了 我来评一下"
            r"在哪评价|"
            r"(?:评|打|给)个(?:满意|基本满意|不满意)",
            text,
        )
    )


def finished_words(text: str) -> bool:
    """'说是办完了', '处理结果出来了': the resident speaks of a finished case."""
    return bool(re.search(r"办完|办好了|处理完|办结|结果出来|给了答复|回复了", text))


_TELLS_US = re.compile(r"说一声|说声|告诉(?:你们|您|你)?一声|来反馈|反馈一下|谢谢|感谢|多谢|辛苦")
_BUT = re.compile(r"但是|可是|不过|就是还|还没|没到|不对|没有办|没办")


def reports_done(text: str) -> bool:
    """ "我那个征地钱的事情办好了，我来说一声": a finished case told back, with thanks and no
    complaint about it; what follows is a rating, not a new filing."""
    return bool(
        finished_words(text)
        and _TELLS_US.search(text)
        and not _BUT.search(text)
        and not tells_wrongdoing(text)
    )


def lost_number(text: str) -> bool:
    return bool(_LOST_NUMBER.search(text))


def asks_status(text: str) -> bool:
    return bool(_STATUS_WORDS.search(text))


# A report about to be made: 想反映, 要举报, 来投诉一下 (not "我反映的事办结了", "查下我的投诉").
_REPORT_VERB = re.compile(
    r"(?:想|要|来|得|准备)(?:跟你们|给你们|向你们|和你们)?(?:反映|举报|投诉|告状|检举)"
)
_REPORTED_BEFORE = re.compile(
    r"(?:反映|举报|投诉)过|(?:之前|上次|上回|前几天|前些天|上个月|去年|那回|早就|已经)"
    r"(?:我|俺|咱)?(?:们)?(?:就)?(?:反映|举报|投诉)|"
    # "我前些天打过电话 反映的那个事 给了我个号"
    r"(?:之前|上次|上回|前几天|前些天|前阵子|上个月|去年)[^，。,.!！?？]{0,10}(?:反映|举报|投诉)(?:的|过)"
)


# "我反映一下 我上个月在县医院住院…": said as it is done.
_REPORTS_NOW = re.compile(r"(?:我|俺|咱)(?:们)?(?:来)?(?:反映|举报|投诉)(?:一下|个事|件事)")
# Words of a case lookup ("查一下", "查进度"), not 检查 or 调查 in a story.
_LOOKS_UP = re.compile(r"(?<![检调审排清核抽])查|办结|办完|回复|答复")


def means_to_report(text: str) -> bool:
    """ "我想反映一下我妈住院报销的事": a new matter to report (whatever the intent model
    says), not a question about one reported before ("上个月反映的事怎么样了")."""
    return bool(
        (_REPORT_VERB.search(text) or _REPORTS_NOW.search(text))
        and not _REPORTED_BEFORE.search(text)
        and not asks_status(text)
        and not find_case_number(text)[0]
        and not re.search(r"\d{6,}", text)
        and not _LOOKS_UP.search(text)
    )


def reported_before(text: str) -> bool:
    """ "上个月反映的那个事", "我前些天打过电话 反映的…": a matter reported already."""
    return bool(_REPORTED_BEFORE.search(text))


def about_a_case(text: str) -> bool:
    """Words that tie a longer message to a case already reported (a number, 案件, 进度,
    上个月反映的…): what a lookup rests on, whatever the intent model says. "…让我先往卡上
    转2000块保证金，这是真的假的" is no lookup."""
    return bool(
        asks_status(text)
        or _REPORTED_BEFORE.search(text)
        or re.search(r"\d{6,}|案件|案子|编号|号码|回执", text)
        or _LOOKS_UP.search(text)
    )


def rating_in(text: str) -> str | None:
    """满意 / 基本满意 / 不满意 as residents say them ('还凑合 基本满意', '一点都不满意')."""
    # "俺说说俺满意不满意": the question of a rating, not one given
    text = _ASKS_RATING.sub("", text)
    if _DISSATISFIED.search(text) or (_RATING.search(text) and _STILL_BAD.search(text)):
        return "不满意"
    if _RATING.search(text) or (_PARTLY.search(compact(text)) and han_count(text) <= 6):
        return "基本满意" if _PARTLY.search(text) else "满意"
    return None


def tells_story(text: str, category: str | None, confidence: float | None) -> bool:
    """Does this message tell a grievance (not only ask or answer)? A sentence long enough to
    say who did what, or shorter words the triage model clearly places on the list."""
    han = han_count(text)
    if han >= 14 and not (is_question(text) and han < 24):
        return True
    # "修条路钱花了八十万 路在哪？？？": a grievance put as a question.
    if han >= 14 and _WRONGDOING.search(text):
        return True
    if han >= 10 and re.search(r"钱花了|花了.{0,4}万|在哪[？?]", text):
        return True
    if han >= 6:
        return bool(category and category != "OUT" and (confidence or 0) >= 0.45)
    # "救灾的", "分红": a fragment, but one the triage model clearly places on the list.
    return bool(category and category != "OUT" and (confidence or 0) >= 0.6 and han >= 2)
