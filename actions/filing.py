"""Filing a complaint: take what the resident's own words already say, ask only for what is
missing (the village, 匿名/留名, the name when they chose 留名, a phone unless the channel knows
it), read back a short summary, take corrections in the resident's words, and file on 对.

Nothing the resident told is ever dropped: every message that is not an answer to the question
asked, nor a question of their own, is added to the complaint."""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from actions import case_api, lookup
from actions.conversation import FILING_SLOTS, Turn, number_values
from actions.details import (
    anonymous_beside_question,
    answer_anonymity,
    answer_name,
    answer_phone,
    better_name,
    corrected_name,
    corrected_phone,
    digit_count,
    gives_name,
    name_said,
    names_plainly,
    only_who_and_where,
    settled_after_question,
    without_questions,
)
from actions.helpdesk import policy
from actions.meaning import (
    asks_about_anonymity,
    asks_how_to,
    asks_if_handled,
    asks_status,
    beyond_fear,
    cannot_name_place,
    compact,
    denied_parts,
    fed_up,
    finished_words,
    goes_on_from,
    is_bare_request,
    is_filler,
    is_no,
    is_question,
    is_yes,
    just_asking,
    more_coming,
    new_matter_story,
    opens_with_yes,
    points_back,
    rating_in,
    refuses_place,
    reported_before,
    said_in_the_end,
    story_done,
    tells_new_matter,
    tells_wrongdoing,
    wants_to_rate,
    without_denied,
    without_stutter,
)
from actions.places import example_township, example_village, gazetteer_village
from actions.policy import item_named_in, load_policies
from actions.wording import han_count, place_words, plain_date
from common.digits import (
    digit_runs,
    find_case_number,
    find_phone,
    say_digits,
    speak_digits,
    to_digits,
)

NOT_SAID = "未说明"  # the village slot when the resident would not or could not say
# Money sent away: 转钱, 转账, 汇款, 打钱, and with the sum said (转三万块钱, 打五千块过去).
_SEND_MONEY = (
    r"(?:转|汇)(?:个|了)?[\d一二两三四五六七八九十百千万几块元]{0,8}(?:钱|账|款)|打钱|"
    # "要我打三万块保证金过去"
    r"(?:打|转|汇|交)(?:个|了)?[\d一二两三四五六七八九十百千万几块元]{0,8}(?:保证金|保释金)"
)
# 骗子 of a caller ("这是不是骗子", "有个骗子打电话"), not shouted at the village ("…根本没给我交
# 上 骗子").
_SCAM_CALLER = (
    r"骗子(?=.{0,30}(?:电话|打来|冒充|转|卡))|"
    r"(?:电话|打来|冒充|转|卡|碰上|遇到|是不是|管不管|这是|那是|肯定是).{0,30}骗子"
)
_SCAM = re.compile(
    rf"{_SCAM_CALLER}|"
    r"诈骗|安全账户|验证码|冒充.{0,6}(?:局|公安|警察|客服)|中奖.{0,6}(?:交|转)|保释|"
    rf"(?:电话|短信|微信).{{0,12}}(?:说是|自称).{{0,40}}(?:{_SEND_MONEY})|"
    rf"(?:冻结|停用|涉嫌|洗钱|被抓|抓起来|抓了|判刑).{{0,20}}(?:{_SEND_MONEY})|"
    r"转了.{0,10}(?:打不通|联系不上|拉黑|关机)|"
    # "打电话给我，说他是镇上民政所的…叫我先交五百块手续费，我就转给他了"
    r"(?:电话|短信|微信)[^。]{0,12}(?:说他是|说她是|说是|自称是?)[^。]{0,40}"
    r"(?:手续费|保证金|解冻费|工本费)|"
    r"转(?:给|过去|到).{0,12}(?:打不通|联系不上|拉黑|关机|找不到人)"
)
_OUT_REFERRALS = (
    (
        re.compile(
            r"骗|保释|验证码|中奖|冒充|刷单|贷款.*先交|交.*保证金|安全账户|"
            r"往.{0,6}卡上(?:打|转|汇)|被抓了?.{0,30}(?:打|转|汇).{0,6}钱|"
            rf"手续费|转.{{0,8}}保证金|{_SEND_MONEY}"  # (its alternatives, each on its own)
        ),
        "utter_referral_scam",
    ),
    (
        re.compile(r"假货|假的|质量|商家|退货|种子|化肥|农药|网购|快递|超市|买的"),
        "utter_referral_consumer",
    ),
    (
        re.compile(
            r"工资|工钱|包工头|欠薪|劳务费|老板.{0,12}(?:不给|没给|拖|欠|找不着|跑了)|"
            r"(?:干|做)了.{0,4}(?:个?月|天|年).{0,12}(?:没给|不给|没拿|没结)"
        ),
        "utter_referral_wages",
    ),
    (
        re.compile(
            r"邻居|隔壁|对门|吵架|吵起来|吵了|打架|纠纷|婆媳|赡养|离婚|矛盾|"
            r"邻舍|隔篱"  # "我同隔篱邻舍吵了几年了" (粤/客)
        ),
        "utter_referral_dispute",
    ),
    (re.compile(r"打人|杀|放火|偷|抢|威胁|危险"), "utter_referral_emergency"),
)
# A name we do not know is taken only when it looks like a village's: 2-5 Han characters
# ending as place names end (青龙村, 高家庄, 柳树湾 …), never a piece of story like 钱没了.
_UNKNOWN_BARE_PLACE = re.compile(
    r"^[\u4e00-\u9fa5]{1,4}(?:村|庄|湾|屯|寨|冲|岗|坝|店|桥|河|营|集|铺|圩|垸|沟|坪|塘|岭|山|"
    r"园|口|畈|郢|洼|坡|堡|社区|组|队|埠|滩|洲|峪|台|院|楼|墩|埂|堰)$"
)


async def start(
    turn: Turn, understood: dict | None = None, tells: bool = True, another: str | None = None
) -> None:
    """A new filing. The message itself is the start of the complaint when it tells something
    (``tells`` is False for a message that only asked, e.g. what 匿名 means). ``another`` is the
    story of a matter the resident said is not the one just filed ("还有个事，跟这个不是一码
    事，…"): it starts a case of its own, never joined to that one."""
    turn.clear_filing()
    turn.set(task="file", awaiting=None, requested_slot=None, misunderstood=0)
    text = turn.content if tells else ""
    if another is not None:
        text, understood = another, None
    # "匿名是什么意思？匿名了还能办吗？" asks, it does not choose: only what is said outside
    # the questions ("我不想让村干部知道是我反映的") is a choice.
    if not tells and (wish := answer_anonymity(without_questions(turn.content), None)):
        turn.set(anonymity=wish)
    earlier = turn.slot("last_filing") or {}
    if earlier:
        # The same person: who they are and how they want to be named does not change.
        turn.set(anonymity=earlier.get("anonymity"), name=earlier.get("name"))
    says_place = bool(((understood or {}).get("place") or {}).get("village"))
    place_said = (((understood or {}).get("place")) or {}).get("said")
    if text and says_place and _bare_answer(text) and han_count(text) <= 8:
        take_details(turn, text, understood)  # "三元村的": the place first, the story to come
        if not only_who_and_where(text, place_said):
            turn.set(complaint_text=text)  # "柏林村鱼塘": what about is kept; the story asked
    elif text and only_who_and_where(text, place_said):
        take_details(turn, text, understood or {})  # "我叫刘秀兰，杨店村的，别登记我名字"
    elif text and not is_bare_request(text) and han_count(text) >= 2:
        await absorb(turn, text, understood)
        if question := _question_answered_before(turn, text):
            # "雨露计划是啥政策" answered, then "他同学家里都领到了…": the story leans on it.
            turn.set(complaint_text=f"{question}。{turn.slot('complaint_text')}")
            await _classify(turn)
        if earlier and another is None and _same_matter(turn, earlier):
            for slot in ("village", "township", "village_group", "village_known"):
                turn.set(**{slot: earlier.get(slot)})
            await file(turn)  # more about the case just filed: added to it, nothing to ask
            return
    elif understood:
        take_details(turn, text, understood)
    await next_step(turn)


def _question_answered_before(turn: Turn, story: str) -> str | None:
    """The resident's question about a programme that the bot answered just before this story,
    when the story is about the same programme (names no other one, or is classified as it)."""
    policies = load_policies()
    events = turn.metadata.get("events") or []
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return None
    before, now = users[-2], users[-1]
    answered = any(
        (e.get("metadata") or {}).get("utter_action") == "utter_policy"
        for e in events[before:now]
        if e.get("event") == "bot"
    )
    question = str(events[before].get("text") or "")
    if not answered or question.startswith("/"):
        return None
    asked = item_named_in(question, policies)
    same = item_named_in(story, policies) in (None, asked) or turn.slot("category") == asked
    return question if asked and same else None


def _same_matter(turn: Turn, earlier: dict) -> bool:
    items = set(earlier.get("items") or [])
    return bool(items) and (
        turn.slot("category") in items or bool(items & set(turn.slot("top_items") or []))
    )


async def absorb(turn: Turn, text: str, understood: dict | None = None) -> None:
    """Add the message to the complaint and keep the details it gives in passing."""
    current = turn.slot("complaint_text") or ""
    if compact(text) and compact(text) not in compact(current):
        combined = f"{current}。{text}" if current else text
        turn.set(complaint_text=combined.strip("。"))
        turn.made_progress = True
        if not current and understood and understood.get("category"):
            _keep_item(turn, understood)  # the message was already classified on its own
        elif not (current and turn.slot("category") and _IN_PASSING.search(text)):
            # "哦对了，还有路灯坏了半年，这个顺便说一声": kept for staff to read, but a matter
            # said in passing does not change what the complaint is about.
            await _classify(turn, text)
    if not understood:
        understood = await _details(text)
    take_details(turn, text, understood)


_IN_PASSING = re.compile(r"顺便|顺带|捎带|附带说")


async def _classify(turn: Turn, newest: str = "") -> None:
    """The item of the complaint as told so far (the read-back names it; the resident may
    correct it). When the whole reads as 清单外 or unsure but the newest part alone is clearly
    on the list, the newest part wins: openings like "这事复杂，电话里说不清" mislead."""
    try:
        guess = await case_api.understand(turn.slot("complaint_text") or "", classify=True)
        whole = guess.get("confidence") or 0
        unsure = guess.get("category") == "OUT" or whole < 0.5
        if unsure and han_count(newest) >= 10:
            alone = await case_api.understand(newest, classify=True)
            sure = alone.get("confidence") or 0
            # Only a part surer than the whole: "村里说这不归他们管" after a private boss's
            # unpaid wages (清单外 at 0.96) does not make it a village matter.
            if alone.get("category") != "OUT" and sure >= 0.5 and sure > whole:
                guess = alone
    except case_api.ServiceUnavailable:
        return
    _keep_item(turn, guess)


def tells_scam(text: str) -> bool:
    """A scam told (被抓了要打保证金, 安全账户): a danger to stop, even when put as a question."""
    return bool(_SCAM.search(text))


def _keep_item(turn: Turn, guess: dict) -> None:
    """The model's item for the complaint told so far, with what the words make certain."""
    told = turn.slot("complaint_text") or ""
    named = item_named_in(told, load_policies())
    if _SCAM.search(told):
        # A scam that borrows an office's name (医保卡要冻结) is still a scam: 110, not 医保.
        guess = {**guess, "category": "OUT", "name_of_item": None}
        if _SCAM.search(turn.content or ""):
            # "…要我转三万块钱保释…要不要转": said at once, before any question.
            turn.say("utter_referral_scam")
    elif guess.get("category") == "OUT" and named and (guess.get("confidence") or 0) < 0.8:
        # "五保户的钱…文书领起走了噻": the model misses the dialect; the programme is named.
        # Not when the model is sure: "隔壁天天把拖拉机停我家门口" names a machine, no subsidy.
        guess = {**guess, "category": named, "name_of_item": None}
    turn.set(
        category=guess.get("category"),
        category_name=guess.get("name_of_item"),
        top_items=[code for code, p in guess.get("top") or [] if p >= 0.15],
    )


async def _details(text: str, answers_place: bool = False) -> dict:
    try:
        return await case_api.understand(text, answers_place=answers_place, classify=False)
    except case_api.ServiceUnavailable:
        return {}


def take_details(turn: Turn, text: str, understood: dict) -> bool:
    """Village, name, phone and anonymity said in passing fill what is still empty (a village
    the gazetteer knows replaces one it does not). True when something was kept."""
    kept = False
    place = understood.get("place")
    village = turn.slot("village")
    unsure = village in (None, NOT_SAID) or not turn.slot("village_known")
    if place and place.get("village") and (unsure and (place.get("known") or village is None)):
        kept = set_place(turn, place)
    elif place and place.get("township") and not turn.slot("township"):
        turn.set(township=place["township"])
        kept = True
    if place and place.get("group") and not place.get("village") and not turn.slot("village_group"):
        turn.set(village_group=place["group"])  # "我们五组的承包地…": the village comes later
    if understood.get("name") and not turn.slot("name"):
        turn.set(name=understood["name"])
        kept = True
    if understood.get("phone") and not turn.slot("phone"):
        turn.set(phone=understood["phone"])
        kept = True
    wish = None if is_question(text) else answer_anonymity(text, None)
    unasked = turn.slots.get("requested_slot") not in ("anonymity", "name")
    if wish == "named" and unasked and not (names_plainly(text) or understood.get("name")):
        wish = None  # only a hint of 留名 in passing: the question is still asked
    if turn.slot("anonymity") is None and wish:
        turn.set(anonymity=wish)
        kept = True
    elif wish and wish != turn.slot("anonymity") and _CHANGES_MIND.search(text):
        # "哎，算了，名字你给写上吧，我叫黄立群" said with the village: a change of mind (to 留名
        # only with the name given).
        name = name_said(text) if wish == "named" else None
        if wish == "anonymous" or name:
            turn.set(anonymity=wish, name=name)
            kept = True
    elif turn.slot("anonymity") is None and understood.get("name") and _signed(text, understood):
        turn.set(anonymity="named")  # a written petition signed with the writer's name
        kept = True
    return kept


_CHANGES_MIND = re.compile(
    r"算了|想了想|考虑了|改主意|还是(?:留名|匿名|实名|写|别写|不写|不留)|不匿名了|不留名了"
)


# "本人王德明", "反映人：陈立平", "此致敬礼": a petition's own signature words.
_SIGNATURE = re.compile(r"本人|反映人|举报人|联系人|署名|此致|特此反映")


def _signed(text: str, understood: dict) -> bool:
    """A long written petition with the writer's name and their number or signature words: a
    choice of 留名. A name said in passing ("我叫周桂兰，白鹤岭村的。…") chooses nothing; the
    resident is still asked 匿名 or 留名."""
    said_phone = bool(understood.get("phone") or find_phone(to_digits(text)))
    return han_count(text) >= 60 and (said_phone or bool(_SIGNATURE.search(text)))


def set_place(turn: Turn, place: dict) -> bool:
    """Keep a place; True when it names a village (a township alone does not)."""
    if place.get("township"):
        turn.set(township=place["township"])
    if place.get("group"):
        turn.set(village_group=place["group"])
    if place.get("village"):
        turn.set(village=place["village"], village_known=bool(place.get("known")))
        return True
    return False


async def on_message(turn: Turn) -> None:
    """A message while filing, not at the read-back: an answer, a question, or more story.
    Details said in passing (a village, a phone, a name) are kept whatever was asked; then the
    first thing still missing is asked (again, in plainer words, when it was not answered)."""
    text, requested = without_stutter(turn.content), turn.slot("requested_slot")
    if text and turn.intent == "greet" and han_count(text) <= 6:
        turn.say("utter_greet_again")  # back after a pause: the open question comes again
    elif text and (asks_about_anonymity(text) or "匿名" in text) and is_question(text):
        turn.say("utter_explain_anonymity")
        statement = without_questions(text)
        settled = settled_after_question(text) or anonymous_beside_question(text)
        if requested == "anonymity" and (settled or gives_name(statement)):
            # "名字可以写，但别让村干部知道，能做到吧？我叫郑爱华": the question is answered,
            # and the choice made with it stands.
            await _answer_anonymity(turn, text, await _details(text))
        elif han_count(without_questions(text)) >= 20 and is_story_piece(text):
            await absorb(turn, text, await _details(text))  # the question came with more story
        elif requested == "phone" and (given := find_phone(to_digits(statement))):
            # "电话真不给村里看吧？那好 18256039127": reassured, and the phone given with it
            # (only the phone: a fear said beside the question is no choice of 匿名).
            turn.set(phone=given)
    elif text and asks_if_handled(text):
        name = turn.slot("category_name")
        if name and turn.slot("category") != "OUT":
            turn.say("utter_we_handle", item=name)
        else:
            turn.say("utter_we_handle_unsure")
        # "龙潭村的！你们到底管不管！": the answer to the open question comes with it.
        take_details(turn, text, await _details(text, answers_place=requested == "village"))
    elif text and (
        (requested == "complaint_text" and await _not_a_story_after_all(turn, text))
        or (requested in _DETAIL_QUESTIONS and await _asked_policy_all_along(turn, text))
    ):
        return  # a question about a policy after all: answered, the filing dropped
    elif text and requested != "complaint_text" and story_done(text):
        pass  # "就这些": the open question is asked plainly, nothing kept
    elif text and requested != "complaint_text" and more_coming(text):
        turn.made_progress = True  # "还有": 嗯，您接着说
    elif text and just_asking(text):
        turn.clear_filing()
        turn.set(task=None, requested_slot=None)
        policy(turn, turn.slots.get("resident_category") or turn.slots.get("category"))
        return
    elif text:
        answers_place = requested in ("village", "township")
        if not answers_place and turn.slot("village") not in (None, NOT_SAID):
            await _place_said_again(turn, text)
        understood = await _details(text, answers_place=answers_place)
        settled = said_in_the_end(text) if answers_place else None
        later = await _details(settled, answers_place=True) if settled else {}
        if later.get("place"):
            # "东风村，不对，西风村": the place corrected to, not the one said first
            understood = {**understood, "place": later["place"]}
        answer = _ANSWERS.get(requested or "", _answer_story)
        answered = await answer(turn, text, understood)
        # Spoken digits ("幺三八 零五六四 七七二一") are Han characters but no story.
        spoken = han_count(to_digits(text))
        long_answer = answered and requested != "complaint_text" and spoken >= 10
        if long_answer and is_story_piece(text) and not cannot_name_place(text):
            # "王家湾村危房改造的补助给了组长他哥…": the answer and more of the story at once.
            # The township answered ("杭埠的，俺们归杭埠镇管") names no village: 杭埠村 must not
            # replace the village said before, one the county's list lacks.
            passing = {**understood, "place": None} if requested == "township" else understood
            await absorb(turn, text, passing)
        if not answered and is_story_piece(text):
            await absorb(turn, text, understood)  # keeps the details it names too
        elif not answered:
            take_details(turn, text, understood)
    await next_step(turn)


# "刚才村名说错了", "就是周郢村 三组": the place comes up again with another answer.
_PLACE_AGAIN = re.compile(r"村名|说错|记错|搞错|弄错|说岔|讲错|不对")


async def _place_said_again(turn: Turn, text: str) -> None:
    """ "15155902364 刚才村名错了 是新河 不是新街", "匿名 就是周郢村 三组": the place said
    before, corrected or made exact while another question is answered, replaces it."""
    again = _PLACE_AGAIN.search(text)
    if not (again or _GROUP_WORD.search(text)):
        return
    place = (await _details(without_denied(text))).get("place") or {}
    if not place.get("village"):
        return
    if place["village"] == turn.slot("village"):
        if place.get("group"):
            turn.set(village_group=place["group"])  # the same village, now with its 组
    elif again and place.get("known"):
        turn.set(village_group=None)
        set_place(turn, place)


async def _answer_story(turn: Turn, text: str, understood: dict) -> bool:
    if is_bare_request(text) or is_yes(text) or is_no(text) or han_count(text) < 2:
        return True  # nothing to add; the question is asked again
    if fed_up(text):
        turn.say("utter_heard_you")  # "俺说到做到": more anger, still no matter
        return True
    if asks_about_anonymity(text) and han_count(beyond_fear(text)) < 6:
        # "我怕村书记晓得了找我麻烦": a fear, not the matter; reassured, then asked again.
        turn.say("utter_explain_anonymity")
        if wish := answer_anonymity(text, None):
            turn.set(anonymity=wish)
        return True
    await absorb(turn, text, understood)
    return True


async def _answer_village(turn: Turn, text: str, understood: dict) -> bool:
    place = understood.get("place")
    if fed_up(text) and not (place and place.get("village")):
        return False  # "再不管我就去县纪委门口坐着": no answer, the village asked again
    if place and set_place(turn, place):
        take_details(turn, text, {**understood, "place": None})
        return True
    if refuses_place(text) and han_count(text) <= 16 and not is_story_piece(text):
        turn.set(village=NOT_SAID, village_known=False)
        return True
    if cannot_name_place(text):
        # The place described, not named: the township is asked instead (once), then given up.
        if place and place.get("township"):
            turn.set(township=place["township"])
        if turn.slot("township_asked") or turn.slot("township"):
            turn.set(village=NOT_SAID, village_known=False)
        else:
            turn.set(village_tries=int(turn.slot("village_tries") or 0) + 1)
        return True
    if is_story_piece(text):
        return False  # more story: kept by the caller, and the village asked again
    if is_filler(text) or is_yes(text) or is_no(text):
        return False  # "嗯", back after a pause: no answer yet, the question simply again
    tries = int(turn.slot("village_tries") or 0) + 1
    turn.set(village_tries=tries)
    bare = _bare_answer(text)
    if tries >= 2 and bare and not is_question(text):
        # Asked plainly twice, the resident says a name we do not know: keep it as said and
        # let staff check it (flagged), rather than lose it or ask forever.
        village = bare if bare.endswith(("村", "社区")) else f"{bare}村"
        turn.set(village=village, village_known=False)
        return True
    if tries >= 3:
        turn.set(village=NOT_SAID, village_known=False)
        return True
    if place and place.get("township"):
        turn.set(township=place["township"])
    return False


async def _answer_township(turn: Turn, text: str, understood: dict) -> bool:
    """The answer to "是哪个乡镇的？": a township (or a village after all); anything else moves
    on, the village left as said (or as not said), so nobody is asked about places forever."""
    place = understood.get("place")
    if place and (place.get("township") or place.get("village")):
        # "晓天的，俺是晓天镇的" names the township, not 晓天村: a village only when said as one.
        says_village = re.search(r"村|社区|组", text) is not None
        if place.get("township") and (not says_village or turn.slot("village") is not None):
            turn.set(township=place["township"])
        else:
            set_place(turn, place)
        take_details(turn, text, {**understood, "place": None})
        return True
    if is_story_piece(text) and not cannot_name_place(text) and not refuses_place(text):
        return False  # more story: kept by the caller; the question moves on
    bare = _bare_answer(text)
    if bare and bare.endswith(("镇", "乡")) and not turn.slot("township"):
        turn.set(township=bare)  # a township we do not know: kept as said, staff check it
    if turn.slot("village") is None:
        turn.set(village=NOT_SAID, village_known=False)
    return True


def _only_a_topic(story: str) -> bool:
    return han_count(story) <= 8 and _bare_answer(story) is not None


def _bare_answer(text: str) -> str | None:
    bare = re.sub(r"^(?:我们|俺们|咱们|我|俺|咱|就)?(?:是|在|住在|住)?", "", compact(text))
    bare = re.sub(r"(?:的|的人|那边|那里|村民|人|啊|呀|吧)+$", "", bare)
    if not _UNKNOWN_BARE_PLACE.match(bare) or is_yes(bare) or is_no(bare):
        return None
    return bare


async def _not_a_story_after_all(turn: Turn, text: str) -> bool:
    """Asked "what happened?" after "我想问问": a policy question or a case number is no story.
    Answered here (the filing is dropped, nothing was told yet)."""
    grievance = tells_wrongdoing(text) and han_count(text) >= 20  # "…打他电话不接，还骂人"
    if (asks_how_to(text) and is_question(text) and not grievance) or (
        turn.intent == "ask_policy" and han_count(text) < 24
    ):
        await _policy_instead(turn, text)
        return True
    # "俺上个月反映了个事，想问问办得咋样了", "俺那个事短信说办完了，俺不满意": about a case
    # reported before, not a new one.
    rates = wants_to_rate(text) or (
        rating_in(text) and (finished_words(text) or reported_before(text) or han_count(text) <= 6)
    )
    status = find_case_number(text)[0] or (
        asks_status(text) and (reported_before(text) or han_count(text) <= 16)
    )
    if (rates or status) and not grievance:
        await _lookup_instead(turn, rates)
        return True
    return False


async def _lookup_instead(turn: Turn, rates: bool) -> None:
    """Drop the filing (nothing was told) and rate or look up the case the resident means."""
    turn.clear_filing()
    turn.set(task=None, requested_slot=None)
    await (lookup.start_rating(turn) if rates else lookup.start_status(turn))


async def _policy_instead(turn: Turn, asked: str) -> None:
    """Drop the filing (nothing was told) and answer the policy question ``asked``; a matter
    described, not named ("水稻淹了…保险咋个赔，要找谁报"), by the item it is about."""
    turn.clear_filing()
    turn.set(task=None, requested_slot=None)
    named = item_named_in(asked, load_policies())
    guess = None
    if named is None:
        with contextlib.suppress(case_api.ServiceUnavailable):
            guess = await case_api.understand(asked, classify=True)
    policy(turn, named, guess)


_DETAIL_QUESTIONS = ("village", "township", "anonymity", "name")


async def _asked_policy_all_along(turn: Turn, text: str) -> bool:
    """ "退耕还林的补助咋个算的…要找哪个领？" taken for a story, and asked the village: the
    resident asks the question again ("就是退耕还林的钱找哪个领"), or gives the number of a case
    reported before. When neither the story nor the answer tells of anything done wrong, it was
    a question: answered, the filing dropped."""
    story = turn.slot("complaint_text") or ""
    if tells_wrongdoing(story) or tells_wrongdoing(text) or turn.slot("filed_record"):
        return False
    # "我家是监测户 闺女考上了职业技术学院" … "雨露计划是怎么回事 去哪申请": the opener was
    # only who is asking; the programme is named now.
    named_now = item_named_in(text, load_policies()) is not None
    if asks_how_to(text) and (asks_how_to(story) or named_now):
        await _policy_instead(turn, f"{story}。{text}")
        return True
    # "我是上个月反映低保的那个…" … "案件号我念给你 八四五四四洞七六": a case reported before,
    # its number given; checked (or rated: "钱是补发了"), not filed again.
    number, _near = find_case_number(text)
    if number:
        await _lookup_instead(turn, rating_in(text) or finished_words(text) or wants_to_rate(text))
        return True
    return False


def is_story_piece(text: str) -> bool:
    """A message that answers nothing asked but says more about what happened (several short
    messages make one story): a few words that are not a bare name, yes/no or refusal."""
    if han_count(to_digits(text)) < 1 or is_filler(text) or is_yes(text) or is_no(text):
        return False  # only digits ("幺三五 六七八九…"), a filler, yes or no: no story
    if fed_up(text):
        return False  # "俺说到做到": anger, no more of the story
    if is_question(text) and han_count(text) < 8 and not tells_wrongdoing(text):
        return False  # "你说啥？": a question, no story ("钱去哪了？" is one)
    if refuses_place(text) and han_count(text) <= 8:
        return False
    return _bare_answer(text) is None or han_count(text) >= 8


def _example(turn: Turn) -> str:
    return example_village(turn.slot("township"))


async def _answer_anonymity(turn: Turn, text: str, understood: dict) -> bool:
    # "对" / "嗯" to "您想匿名还是留名？" is the safe choice, 匿名 (a 不 is no choice of 留名).
    agrees = turn.intent == "affirm" and han_count(text) <= 4
    wish = answer_anonymity(text, "affirm" if agrees else None)
    if wish is None and refuses_place(text) and han_count(text) <= 6:
        wish = "anonymous"  # 不知道 / 不清楚: keep them safe
    if wish is None and gives_name(text):
        wish = "named"
    if wish is None:
        if is_question(text) and ("匿名" in text or "留名" in text):
            turn.say("utter_explain_anonymity")
        phone = answer_phone(text, None)
        if phone and phone != "none" and not phone_of(turn):
            turn.set(phone=phone)  # "幺三五 六七八九 零二四一": the phone first, then asked again
        return False
    turn.set(anonymity=wish)
    if wish == "named":
        after = _AFTER_NAMED.sub("", text)
        # What is left after 留名 is the name itself ("留我名字吧，刘志强。我爸叫刘永福"): it
        # wins over a name found elsewhere in the message.
        name = answer_name(after) or better_name(understood.get("name"), name_said(text))
        if name:
            turn.set(name=name)
    take_details(turn, text, {**understood, "place": understood.get("place"), "name": None})
    return True


_AFTER_NAMED = re.compile(
    r"^.*?(?:留名字?|留个名字?|实名|写我?名字|留(?:我|俺)的?名字)[吧啊呀嘛]?[，,。 ]*"
)


async def _answer_name(turn: Turn, text: str, understood: dict) -> bool:
    if answer_anonymity(text, None) == "anonymous" or re.search(r"不说|不留|不想|不告诉", text):
        turn.set(anonymity="anonymous")
        return True
    name = better_name(understood.get("name"), answer_name(text))
    if name is None:
        if _PUTS_OFF_NAME.search(text) and not is_question(text):
            turn.set(anonymity="anonymous")  # "你先记下来，记完再说": filed safe, as 匿名
            return True
        return False
    turn.set(name=name)
    return True


_PUTS_OFF_NAME = re.compile(r"先记|再说|等下|等会|回头|不知道|不晓得|不清楚|随便|算了")


async def _answer_phone(turn: Turn, text: str, understood: dict) -> bool:
    wish = answer_anonymity(text, None)
    if wish and wish != turn.slot("anonymity") and not find_phone(text):
        # "算了算了 还是匿名吧": a change of mind about the name, no answer about the phone.
        turn.set(anonymity=wish)
        return False
    value = answer_phone(text, turn.channel_phone)
    digits = "".join(digit_runs(text))
    if value is None and digits:
        # "幺五九 六二" … "洞三 七七八幺": a number said in two breaths is one number.
        joined = (turn.slot("phone_start") or "") + digits
        value = find_phone(joined)
        if value is None and joined.startswith("1") and len(joined) < 11:
            turn.set(phone_start=joined)
            turn.made_progress = True  # "记下了 1 5 9 6 2，后面几位呢？"
            return False
    if value is None:
        if digit_count(text) >= 5:
            turn.say("utter_phone_incomplete")
        turn.set(phone_start=None)
        return False
    turn.set(phone=value, phone_start=None)
    return True


_ANSWERS = {
    "complaint_text": _answer_story,
    "village": _answer_village,
    "township": _answer_township,
    "anonymity": _answer_anonymity,
    "name": _answer_name,
    "phone": _answer_phone,
}


# What a question left unanswered three times becomes, so nobody is asked forever.
_GIVE_UP = {"village": NOT_SAID, "anonymity": "anonymous", "phone": "none"}


async def next_step(turn: Turn) -> None:
    """Ask for the first thing still missing, or read the complaint back."""
    for slot, fallback in _GIVE_UP.items():
        if turn.slot(slot) is None and turn.asked_in_vain(slot):
            turn.set(**{slot: fallback})
    if turn.asked_in_vain("name", times=2) and not turn.slot("name"):
        turn.set(anonymity="anonymous")  # no name after asking twice: filed safe, as 匿名
    story = turn.slot("complaint_text")
    # "柏林村鱼塘" alone: what it is about, but not yet what happened; asked once.
    only_a_topic = story and _only_a_topic(story) and turn.slots.get("requested_slot") is None
    if not story or only_a_topic:
        if (village := turn.slot("village")) and village != NOT_SAID:
            turn.ask("complaint_text", "utter_ask_story_of_place", village=village)
        else:
            turn.ask("complaint_text", "utter_ask_complaint_text")
        return
    if turn.slot("village") is None:
        _village_from_poster(turn)
    if turn.slot("village") is None and not turn.slot("village_tries"):
        _village_of_last_filing(turn)
    if _ask_township(turn):
        return
    if turn.slot("village") is None:
        if turn.slot("township") and turn.slot("village_tries"):
            turn.ask(
                "village",
                "utter_ask_village_in_township",
                township=turn.slot("township"),
                example=_example(turn),
            )
        elif _goes_on(turn, "village"):
            turn.ask("village", "utter_go_on_village")
        elif turn.slot("village_tries"):
            turn.ask("village", "utter_ask_village_again", example=_example(turn))
        else:
            turn.ask("village", "utter_ask_village", example=_example(turn))
        return
    if turn.slot("anonymity") is None:
        if _goes_on(turn, "anonymity"):
            turn.ask("anonymity", "utter_go_on_anonymity")
        else:
            turn.ask("anonymity", "utter_ask_anonymity")
        return
    if turn.slot("anonymity") == "named" and not turn.slot("name"):
        turn.ask("name", "utter_ask_name")
        return
    if turn.slot("phone") is None:
        if turn.channel_phone:
            turn.set(phone=turn.channel_phone)
        elif _goes_on(turn, "phone") and (start := turn.slot("phone_start")):
            turn.ask("phone", "utter_go_on_phone", digits=say_digits(start))
            return
        else:
            turn.ask("phone", "utter_ask_phone")
            return
    if turn.slot("filed_record"):
        await _send_amendment(turn)  # a correction of a filed case needed one more answer
    else:
        await file(turn)  # filed first; the resident hears what was stored and may correct it


def _goes_on(turn: Turn, question: str) -> bool:
    """The resident answered the open question with more of the story (told in pieces): the
    bot says "嗯，您接着说" with the question, rather than the same long question again."""
    return turn.made_progress and turn.slots.get("requested_slot") == question


def _ask_township(turn: Turn) -> bool:
    """Once per filing: the township, when the village could not be said, or was said but is
    not in the county's gazetteer (staff then know where to look)."""
    if turn.slot("township") or turn.slot("township_asked"):
        return False
    village = turn.slot("village")
    if village is None and turn.slot("village_tries"):
        response, values = "utter_ask_township", {}
    elif village not in (None, NOT_SAID) and not turn.slot("village_known"):
        response, values = "utter_ask_township_of_village", {"village": village}
    else:
        return False
    turn.set(township_asked=True)
    turn.ask("township", response, example=example_township(), **values)
    return True


def _village_from_poster(turn: Turn) -> None:
    """The chat page opened from a village's QR poster sends that village with every message:
    used when the resident has not named a place of their own, so nobody is asked what the
    poster already says. Only a village the gazetteer holds is taken from it."""
    said = turn.metadata.get("village")
    place = gazetteer_village(str(said)) if said else None
    if place:
        turn.set(village=place[1], township=place[0], village_known=True)


# How long after a filing a new matter is taken to be from the same place (a resident texting
# again next week may well be somewhere else).
_SAME_CALL_SECONDS = 2 * 3600


def _filed_this_call(earlier: dict) -> bool:
    """The last filing was made in this call (within ``_SAME_CALL_SECONDS``)."""
    return time.time() - float(earlier.get("at") or 0) < _SAME_CALL_SECONDS


def _village_of_last_filing(turn: Turn) -> None:
    """A second matter told in the same conversation is most likely from the same village: the
    place of the case just filed is taken, not asked again, and read back to be corrected."""
    earlier = turn.slot("last_filing") or {}
    if _filed_this_call(earlier) and earlier.get("village") not in (None, NOT_SAID):
        for slot in ("village", "township", "village_group", "village_known"):
            turn.set(**{slot: earlier.get(slot)})


def _unsure_out(turn: Turn) -> bool:
    """清单外 that the model only just chose over an item on the list: not read back as "不归村里
    管", no referral elsewhere, and not sent as the resident's confirmed item; staff decide."""
    if turn.slot("resident_category") or turn.slot("category") != "OUT":
        return False
    story = turn.slot("complaint_text") or ""
    if _SCAM.search(story) or referral_for(story) != "utter_referral_general":
        return False  # a scam, a private boss's wages, a neighbour: where to go is plain
    return any(code != "OUT" for code in turn.slot("top_items") or [])


def _item_words(turn: Turn) -> str:
    code = turn.slot("resident_category") or turn.slot("category")
    if _unsure_out(turn):
        return "是哪一类事，工作人员再看"
    if code == "OUT":
        return "不归村里管的事"
    policy = load_policies().get(code or "")
    name = policy.name if policy else turn.slot("category_name")
    return f"“{name}”方面的事" if name else "是哪一类事，工作人员再看"


def _say_out_of_list(turn: Turn) -> None:
    """清单外 that the model is sure of: said plainly, with where it belongs (a scam: 110)."""
    if (turn.slot("resident_category") or turn.slot("category")) == "OUT" and not _unsure_out(turn):
        turn.say("utter_out_of_list")
        turn.say(referral_for(turn.slot("complaint_text") or ""))


def _record_words(turn: Turn) -> dict[str, str]:
    """A short summary: the item in plain words, the place, 匿名/留名, the phone."""
    village = turn.slot("village")
    anonymity = turn.slot("anonymity") or "anonymous"
    name = turn.slot("name")
    phone = phone_of(turn)
    if phone:
        digits = speak_digits(phone) if turn.channel == "voice" else say_digits(phone)
        phone_part = f"回电{digits}"
    else:
        phone_part = "没留电话"
    return {
        "item": _item_words(turn),
        "place": place_words(
            turn.slot("township"),
            None if village == NOT_SAID else village,
            turn.slot("village_group"),
        ),
        "who": f"留名{name}" if anonymity == "named" and name else "匿名",
        "phone_part": phone_part,
    }


def read_back(turn: Turn) -> None:
    """Read back before filing: only when filing failed and the resident is to say 对 again."""
    _say_out_of_list(turn)
    turn.await_answer("confirm", "utter_read_back", **_record_words(turn))


def referral_for(text: str) -> str:
    """Where a matter outside the list belongs (a scam: 先别转钱，打110)."""
    for pattern, response in _OUT_REFERRALS:
        if pattern.search(text):
            return response
    return "utter_referral_general"


def phone_of(turn: Turn) -> str | None:
    phone = turn.slot("phone")
    return None if phone in (None, "none") else phone


async def at_read_back(turn: Turn) -> None:
    """The answer to "对吗？": 对 files it; anything else is a correction in their own words."""
    text = turn.content or turn.text
    bare_yes = is_yes(text) or (turn.intent == "affirm" and han_count(text) <= 4)
    if bare_yes and turn.slot("awaiting") != "correction":
        await file(turn)
        return
    if bare_yes:
        read_back(turn)
        return
    if is_no(text) or (turn.intent == "deny" and han_count(text) <= 4):
        turn.await_answer("correction", "utter_ask_correction")
        return
    await correct(turn, text)


async def correct(turn: Turn, text: str) -> None:
    """A correction at the read-back before filing (after a failed filing only)."""
    changed = await _apply_correction(turn, text)
    if changed and han_count(text) >= 12 and not is_question(text):
        await absorb(turn, text, await _details(text))  # "不是救灾的，是危房改造的补助，说好…"
    if not changed and opens_with_yes(text) and han_count(text) <= 12:
        await file(turn)  # "对头 就是这个": nothing to change, a yes in the resident's words
        return
    if not changed:
        if han_count(text) >= 4 and not is_question(text):
            await absorb(turn, text, await _details(text))
        else:
            turn.await_answer("correction", "utter_ask_correction")
            return
    turn.set(awaiting=None)
    await next_step(turn)


async def _apply_correction(turn: Turn, text: str, who_only: bool = False) -> bool:
    """What a correction changes (item, place, phone, 匿名/留名, name), set on the slots; True
    when something changed. ``who_only``: a longer message that is no correction of the
    matter may still change 匿名/留名, the name or the phone ("怕他们报复，还是匿名吧")."""
    changed = False
    code = None
    if not who_only:
        code = item_named_in(without_denied(text), load_policies())
        code = code or await _item_meant(turn, text)
    if code:
        turn.set(resident_category=code)
        changed = True
    understood = await _details(text, answers_place=han_count(text) <= 8)
    place = None if who_only else understood.get("place")
    current = turn.slot("village")
    stem = re.sub(r"(?:村|社区)$", "", current or "")
    if len(stem) >= 2 and stem in text and (not place or place.get("village") == current):
        # "张庄是我娘家，我说顺嘴了，出事的是挨着张庄那个，周营": the place read back is named
        # as the wrong one; the one corrected to is the other, said bare as an answer would be.
        rest = text.replace(current or "", "，").replace(stem, "，")
        other = (await _details(rest, answers_place=True)).get("place")
        if other and other.get("village") and other.get("village") != current:
            place = other
    if place and (place.get("village") or place.get("township")):
        if not place.get("village"):
            turn.set(village=None)
        set_place(turn, place)
        changed = True
    elif not who_only and _GROUP_WORD.search(text) and current and current != NOT_SAID:
        # "村对的，组不对，不是三组，是五组": only the group of the village read back.
        settled = without_denied(said_in_the_end(text) or text)
        group = ((await _details(settled, answers_place=True)).get("place") or {}).get("group")
        if group and group != turn.slot("village_group"):
            turn.set(village_group=group)
            changed = True
    phone = answer_phone(text, turn.channel_phone)
    if not phone or phone == "none":
        phone = corrected_phone(text, turn.slot("phone")) or phone
    if phone and (phone != "none" or _DROPS_PHONE.search(text)):
        turn.set(phone=phone)  # "算了，还是匿名吧，电话留着就行" keeps the phone
        changed = True
    wish = answer_anonymity(text, None)
    if wish:
        turn.set(anonymity=wish)
        changed = True
    fixed_name = corrected_name(text, turn.slot("name")) if wish != "anonymous" else None
    if fixed_name and (turn.slot("anonymity") == "named" or wish == "named"):
        turn.set(name=fixed_name)  # "名字写错了，是张国福": only ever a named filing's name
        changed = True
    elif name := understood.get("name") or (answer_name(text) if wish == "named" else None):
        turn.set(name=name)
        changed = True
    return changed


# A correction that takes the phone away: "电话就不留了", "别留我电话".
_DROPS_PHONE = re.compile(
    r"(?:不|别|不要|莫|不用)(?:留|写|要)?(?:我的?)?(?:电话|号码|手机)|"
    r"(?:电话|号码|手机)(?:号码?)?(?:就|也|还是)?(?:不留|别留|不要|删|去掉|不用|不给)"
)
_SAYS_WHAT_IT_IS = re.compile(
    r"(?:是|说的是|反映的是|讲的是)(?:那个|这个)?([^，。,.!！?？\s]{2,16})"
)


_GROUP_WORD = re.compile(r"[一二三四五六七八九十两\d]\s*(?:组|队)")
_MATTER = re.compile(r"事|钱|款|补|费|保|助|贴|项目|工程")
_PLACE_WORD = re.compile(r"村|镇|乡|社区|组")


async def _item_meant(turn: Turn, text: str) -> str | None:
    """ "不是低保的事 是那个修桥的钱": the item read back is denied and the matter said in other
    words; the model reads those words, and a sure item other than the one read back is taken."""
    matter = [p for p in denied_parts(text) if _MATTER.search(p) and not _PLACE_WORD.search(p)]
    if not matter or not (said := _SAYS_WHAT_IT_IS.search(without_denied(text))):
        return None  # "不是杭埠那个新河" denies a place, not the item
    # The whole story with the words the resident stresses: the fragment alone is too short
    # to read ("修桥的钱" could be 一事一议 or a project); the story says which.
    story = f"{turn.slot('complaint_text') or ''}，{said.group(1)}"
    try:
        guess = await case_api.understand(story, classify=True)
    except case_api.ServiceUnavailable:
        return None
    current = turn.slot("resident_category") or turn.slot("category")
    for code, p in guess.get("top") or []:
        if code not in ("OUT", current):
            return code if p >= 0.1 else None
    return None


_BEIJING = ZoneInfo("Asia/Shanghai")


def _key(turn: Turn, text: str) -> str:
    """The same words from the same sender on the same (Beijing) day are one filing: a retried
    action files once. The day keeps a story told again weeks later (the same short words, by
    SMS or by phone) from being answered with the old, perhaps closed, case."""
    day = datetime.now(_BEIJING).date().isoformat()
    return "bot-" + hashlib.sha256(f"{turn.sender}\n{day}\n{text}".encode()).hexdigest()[:40]


async def call_ended(turn: Turn) -> None:
    """The caller hung up while a complaint was being taken. A matter told is filed as said:
    匿名 unless 留名 (and a name) was chosen, the item only if the resident named it, marked as
    not read back; the case service texts the receipt to the caller's number."""
    if turn.slot("task") != "file" or han_count(turn.slot("complaint_text") or "") < 8:
        return
    if turn.slot("anonymity") != "named" or not turn.slot("name"):
        turn.set(anonymity="anonymous")
    if turn.slot("phone") is None and turn.channel_phone:
        turn.set(phone=turn.channel_phone)  # the number called from, as a filing by phone has
    await file(turn, read_back=False)


async def file(turn: Turn, read_back: bool = True) -> None:
    """File the complaint; ``read_back`` is False when the resident never heard the read-back
    (the call ended first): then only an item they named themselves is theirs."""
    text = turn.slot("complaint_text") or ""
    village = turn.slot("village")
    confirmed = turn.slot("resident_category") or turn.slot("category")
    if not read_back:
        confirmed = turn.slot("resident_category")
    elif _unsure_out(turn):
        confirmed = None
    payload: dict[str, Any] = {
        "text": text,
        "channel": turn.channel,
        "phone": phone_of(turn),
        "anonymous": turn.slot("anonymity") != "named",
        "name": turn.slot("name") if turn.slot("anonymity") == "named" else None,
        "township": turn.slot("township"),
        "village": village if village and village != NOT_SAID else None,
        "village_group": turn.slot("village_group"),
        "village_flagged": bool(village and village != NOT_SAID and not turn.slot("village_known")),
        "resident_category": confirmed,
        "asked_for_person": bool(turn.slot("person_wanted")),
        "not_read_back": not read_back,
        "idempotency_key": _key(turn, text),
    }
    try:
        reply = await case_api.file_complaint(payload)
    except case_api.ServiceUnavailable:
        turn.say("utter_busy")
        turn.await_answer("confirm")
        return
    if reply.status not in (200, 201):
        detail = reply.body.get("detail") or "内容有误"
        turn.say("utter_filing_refused", reason=str(detail)[:60])
        turn.await_answer("confirm")
        return
    body = reply.body
    joined = body.get("joined_case")
    record: dict[str, Any] | None = None
    if read_back:
        _say_out_of_list(turn)
    if joined:
        turn.say("utter_filed_joined", **number_values(joined))
    else:
        turn.say("utter_filed", **number_values(body["number"]))
        if due := plain_date(body.get("due_date")):
            turn.say("utter_due_date", date=due)
    if not phone_of(turn):
        turn.say("utter_no_phone_note")
    else:
        await lookup.answer_left_lookup(turn, phone_of(turn) or "")
    if read_back and not joined:
        # Last, so the resident answers it: what was stored, to correct if it is wrong.
        turn.say("utter_filed_record", **_record_words(turn))
        record = _snapshot(turn, body["number"], payload["idempotency_key"])
    else:
        turn.say("utter_anything_else")
    last_filing = {
        slot: turn.slot(slot)
        for slot in ("village", "township", "village_group", "village_known", "anonymity", "name")
    }
    last_filing["at"] = time.time()
    last_filing["record"] = record or (turn.slot("last_filing") or {}).get("record")
    last_filing["items"] = sorted(
        {c for c in (confirmed, turn.slot("category"), *(turn.slot("top_items") or [])) if c}
    )
    turn.clear_filing()
    turn.set(
        task=None,
        awaiting="amend" if record else None,
        filed_record=record,
        requested_slot=None,
        filed_number=joined or body["number"],
        last_case=joined or body["number"],
        last_filing=last_filing,
    )


# What a resident says to add to what they told: 补充一点, 忘了说, 再说一句.
_ADDS_TO_IT = re.compile(
    r"^(?:哦|噢|啊|嗯|哎|对了)*[，,\s]*(?:另外|还有)?(?:个事|件事|一个事|一件事|一点)?[，,：:\s]*"
    r"(?:刚才|刚刚|我|俺|咱)?(?:再?补(?:充|一句|两句|几句|一下|一点)|忘了说|忘说了|漏了|漏说了|"
    r"再说一句|再加一句|还有一点)"
)
# Another person or time with the same matter: 他家的也是, 也没发, 一样的情况.
_SAME_AGAIN = re.compile(
    r"也是|也没(?:发|给|领|到|拿)|也被|也给|也停|也一样|一样的情况|同样|"
    r"都是这样|都这样|都一样|一个样"  # "我们五组四十多户都是这样"
)


async def _another_matter(turn: Turn, text: str, items: list[str] | None = None) -> bool:
    """The model is sure the words are about another item than the case's (a second matter,
    not more of the same)."""
    try:
        guess = await case_api.understand(text, classify=True)
    except case_api.ServiceUnavailable:
        return False
    current = items or [turn.slot("resident_category") or turn.slot("category")]
    top = (guess.get("top") or [[None, 0.0]])[0]
    return top[0] not in (None, "OUT", *current) and top[1] >= 0.5


async def continues_matter(turn: Turn, text: str, items: list[str]) -> bool:
    """ "还有，老人说她的住院发票…", "还有个事儿俺得说一下，…" after a case was filed or handed
    over: more of that matter, unless said to be another or clearly about another item."""
    if goes_on_from(text) is None or tells_new_matter(text) or is_question(text):
        return False
    return points_back(text) or not await _another_matter(turn, text, items)


async def more_of_last(turn: Turn) -> bool:
    """More of the case filed just before, told after its record was confirmed ("对" … "还有，
    他上回…"): added to that case like any addendum, not made a second case."""
    earlier = turn.slot("last_filing") or {}
    record = earlier.get("record")
    if not record or not _filed_this_call(earlier) or han_count(turn.content) < 8:
        return False
    if not await continues_matter(turn, turn.content, earlier.get("items") or []):
        return False
    turn.set(filed_record=record, awaiting="amend")
    return await after_filing(turn)


# Words that make a longer message after the record a correction, not a new message.
_CORRECTS = re.compile(
    r"不对|不是|错了|搞错|弄错|改一下|改成|改为|应该是|其实是|换成|写成|^(?:算了|还是)|"
    r"没说清|说得不清|我的意思是|我是说|准确(?:地)?说|"  # "我刚才没说清楚，那个钱是…优待金"
    # "俺说的补贴是…，别弄成别的了"
    r"别(?:弄|搞|写|记|整|当)成|(?:我|俺)说的[^，。,.!！?？]{0,6}是"
)
# What a resident may correct after hearing the record, and what it is read back from: the
# filing's slots but the bookkeeping of its questions, and the phone (kept across filings).
_AMENDABLE = (
    *(
        s
        for s in FILING_SLOTS
        if s not in ("village_tries", "township_asked", "person_wanted", "phone_start")
    ),
    "phone",
)


def _snapshot(turn: Turn, number: str, key: str) -> dict[str, Any]:
    return {"number": number, "key": key, "slots": {s: turn.slot(s) for s in _AMENDABLE}}


async def after_filing(turn: Turn) -> bool:
    """The message after the record of a filed case was read back. A correction ("不对，是梨园
    村的", "算了还是别写我名字") amends the case; 对/好 closes it; anything else is a new
    message (False: the caller routes it as one)."""
    text = turn.content or turn.text
    record = turn.slot("filed_record") or {}
    if not record:
        turn.set(awaiting=None)
        return False
    if is_yes(text) or (opens_with_yes(text) and han_count(text) <= 8) or _record_right(text):
        turn.set(awaiting=None, filed_record=None)
        turn.say("utter_record_kept")
        turn.say("utter_anything_else")
        return True
    if is_no(text) or (turn.intent == "deny" and han_count(text) <= 4):
        turn.await_answer("amend", "utter_ask_correction")
        return True
    if tells_new_matter(text):
        # "还有个事，跟这个不是一码事，…": a case of its own, whatever the model reads.
        turn.set(awaiting=None, filed_record=None)
        await start(turn, another=new_matter_story(text))
        return True
    asks_anonymity = asks_about_anonymity(text) or ("匿名" in text and is_question(text))
    if asks_anonymity:
        turn.say("utter_explain_anonymity")  # "这个名字村里会不会看到？…那还是匿名吧"
    if _ONLY_A_NUMBER.fullmatch(to_digits(text)) and not find_case_number(text)[0]:
        # "电话是幺五九 六二" … "洞三 七七八幺": a phone said in pieces is one correction.
        joined = (turn.slot("phone_start") or "") + "".join(digit_runs(text))
        if not find_phone(joined) and joined.startswith("1") and len(joined) < 11:
            turn.set(phone_start=joined)
            turn.say("utter_go_on_phone", digits=say_digits(joined))
            return True
        turn.set(phone_start=None)
        text = joined
    # A longer message without a word of correction may be a new matter or a question: only
    # who the resident is (匿名/留名, name, phone) is taken from it.
    who_only = han_count(text) > 12 and not _CORRECTS.search(text)
    turn.set(**record["slots"])
    changed = await _apply_correction(turn, text, who_only=who_only)
    # More of the matter said with the correction ("说好两万，到手一万"), not only the fix; or
    # said as more of it ("另外补充一点：…", "俺隔壁老周家的也是去年就停了").
    # The matter itself said again ("不对，是残疾人的护理补贴，我家老二是一级残疾"): the words
    # that say what it is about go into the case with the new item.
    new_item = turn.slot("resident_category") != record["slots"].get("resident_category")
    # "俺说的补贴是重度残疾人护理补贴，…他残疾证是一级的": the item of the record said again.
    same_item = item_named_in(text, load_policies()) in (
        turn.slot("resident_category"),
        turn.slot("category"),
    )
    more = (
        han_count(text) >= 8
        and not is_question(text)
        and (
            (
                not who_only
                and (tells_wrongdoing(text) or ((new_item or same_item) and han_count(text) >= 12))
            )
            or _ADDS_TO_IT.search(text)
            or points_back(text)  # "还有！他上回明着跟我说…"
            or (
                (_SAME_AGAIN.search(text) or goes_on_from(text) is not None)
                and not await _another_matter(turn, text)
            )
        )
    )
    # "名字你别写成干钩于了，我是多余的余，余兴旺" when 余兴旺 is what was stored: a correction
    # that changes nothing is told so ("没有变"), not taken as a new message.
    about_record = bool(_CORRECTS.search(text)) and han_count(text) <= 30 and not is_question(text)
    if not changed and not more and not about_record:
        if asks_anonymity and han_count(beyond_fear(text)) < 8:
            return True  # "那村里会不会晓得是我说的？": answered; the record can still be fixed
        turn.clear_filing()
        turn.set(awaiting=None, filed_record=None)
        return False
    if more:
        # "不是救灾的，是危房改造的补助，说好两万，到手一万": the words go into the case too.
        record = {**record, "addendum": text}
        await absorb(turn, text, await _details(text))
    turn.set(task="file", awaiting=None, requested_slot=None, filed_record=record)
    await next_step(turn)  # asks a name first when the correction was to 留名
    return True


# "记是记对了。他妈的去年就有人反映过…": the record is right, whatever else is vented.
_RECORD_RIGHT = re.compile(
    r"^(?:嗯|对|好)?[，,\s]*(?:记是记对了|记对了|没记错|记得对|都对|写对了|没错)"
)


def _record_right(text: str) -> bool:
    return bool(_RECORD_RIGHT.search(text)) and not _CORRECTS.search(text) and "但" not in text


# A message that is only a number, perhaps with 电话是 before it.
_ONLY_A_NUMBER = re.compile(r"(?:(?:我的|俺的)?(?:电话|手机|号码)(?:号码?)?(?:是|就是)?)?[\d\s]+")


async def _send_amendment(turn: Turn) -> None:
    """Send what the resident corrected; read the record back again."""
    record = turn.slot("filed_record") or {}
    before = record.get("slots") or {}
    payload: dict[str, Any] = {"idempotency_key": record.get("key")}
    if record.get("addendum"):
        payload["addendum"] = record["addendum"][:500]
    now = {s: turn.slot(s) for s in _AMENDABLE}
    if now["resident_category"] and now["resident_category"] != before.get("resident_category"):
        payload["resident_category"] = now["resident_category"]
    if any(now[s] != before.get(s) for s in ("village", "township", "village_group")):
        village = now["village"]
        payload.update(
            township=now["township"],
            village=village if village and village != NOT_SAID else None,
            village_group=now["village_group"],
            village_flagged=bool(village and village != NOT_SAID and not now["village_known"]),
        )
    payload["anonymous"] = now["anonymity"] != "named"
    if now["anonymity"] == "named" and now["name"]:
        payload["name"] = now["name"]
    phone = phone_of(turn)
    if phone:
        payload["phone"] = phone
    elif before.get("phone") not in (None, "none"):
        payload["no_phone"] = True
    try:
        reply = await case_api.amend_filing(record["number"], payload, turn.sender)
    except case_api.ServiceUnavailable:
        reply = None
    turn.set(task=None, requested_slot=None)
    if reply is None or reply.status >= 500:
        turn.clear_filing()
        turn.set(phone=before.get("phone"))  # what is stored stands; it may be said again
        turn.await_answer("amend", "utter_amend_busy")
        return
    if reply.status != 200:
        turn.clear_filing()
        turn.set(awaiting=None, filed_record=None)
        turn.say("utter_amend_closed")
        return
    changed = reply.body.get("changed") or []
    if changed == ["addendum"]:
        # More about the same matter: added to the case just filed, nothing else changed.
        turn.say("utter_added_to_case", **number_values(record["number"]))
        turn.clear_filing()
        turn.set(awaiting="amend", filed_record={**record, "addendum": None})
        return
    turn.say("utter_amended" if changed else "utter_record_unchanged")
    _say_out_of_list(turn)
    turn.say("utter_filed_record", **_record_words(turn))
    fresh = _snapshot(turn, record["number"], record["key"])
    turn.clear_filing()
    turn.set(awaiting="amend", filed_record=fresh)
