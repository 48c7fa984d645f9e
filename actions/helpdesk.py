"""The rest of the conversation: greetings, policy questions, a person, goodbyes, and what to do
when the bot did not understand (twice → offer a person)."""

from __future__ import annotations

import os
import re

from actions import case_api
from actions.conversation import Turn, number_values
from actions.details import answer_anonymity, answer_name, answer_phone, gives_name, name_said
from actions.meaning import asks_who, is_question, refuses_place, tells_wrongdoing, wants_person
from actions.places import example_village
from actions.policy import answer, item_named_in, load_policies
from actions.wording import excerpt, han_count
from common.digits import find_phone, say_digits
from common.told import tells_a_matter

_NUMBERS = re.compile(r"[\d０-９零〇一二三四五六七八九幺两洞拐]{5,}")


def greet(turn: Turn) -> None:
    if turn.slot("complaint_text") and turn.slot("task") != "file":
        draft = excerpt(turn.slot("complaint_text") or "", 20)
        turn.await_answer("resume", "utter_resume_offer", excerpt=draft)
    elif turn.slot("task"):
        turn.say("utter_greet_again")
    else:
        turn.say("utter_greet")


def policy(turn: Turn, code: str | None = None, guess: dict | None = None) -> None:
    """Only an item the resident named (or its usual words): a guess risks answering about the
    wrong policy, and a wrong answer is worse than a person."""
    policies = load_policies()
    code = code or item_named_in(turn.content, policies)
    # "这种事归哪里管": a matter described, not named — the item it is about answers who
    # handles it. "火星补贴怎么申请" names a programme we do not know: no guess then.
    if code is None and guess and (guess.get("confidence") or 0) >= 0.5 and asks_who(turn.content):
        code = guess.get("category")
    found = policies.get(code or "")
    if found is None:
        turn.await_answer("handoff_offer", "utter_policy_unknown")
        turn.set(handoff_reason="政策问题机器人答不上来")
        return
    turn.say("utter_policy", answer=answer(found))
    turn.say("utter_anything_else_question")


ASKED_FOR_PERSON = "居民要求转人工"
NOT_UNDERSTOOD = "机器人两次没听懂"
# What the bot asks before handing over: the story, the village, 匿名 or 留名 (and the name),
# the phone to call back.
HANDOFF_QUESTIONS = ("complaint_text", "village", "anonymity", "name", "phone")


async def start_handoff(turn: Turn, reason: str) -> None:
    """A person was asked for. When nothing has been told yet, one question first (what and
    which village), so the person who calls back knows what about; then the phone."""
    already = turn.slot("task") == "handoff"
    if turn.slot("requested_slot") == "village" and not turn.slot("village"):
        # "我刚才不是说了吗 李家河 …听不懂就换个人来": the answer came with the request.
        await _place_in(turn, turn.content, answers_place=True)
    turn.set(task="handoff", handoff_reason=reason, awaiting=None)
    if not already:
        # A filing's open question is not the handoff's.
        turn.set(requested_slot=None, phone_tries=0)
    told = turn.slot("complaint_text") or turn.slot("filed_number") or turn.slot("last_case")
    asked_for = reason == ASKED_FOR_PERSON  # not an offer after the bot failed to understand
    if asked_for and not already and not told:
        if not _tells_something(turn.content):
            _keep_phone(turn, turn.content)  # "别问了 直接让人打我电话 1872…": never asked again
            turn.ask("complaint_text", "utter_ask_handoff_story")
            return
        # "…给俺找个活人。俺是光明村的，就是那个扶贫的小额贷款…": the story came with the
        # request: kept for the person (and its village), as an answer to the question would be.
        turn.set(complaint_text=_story_part(turn.content))
        await _place_in(turn, turn.content)
    await handoff_message(turn)


# Why a person is wanted: "我普通话讲得唔好，打字又慢" tells about the caller, not the matter.
_WHY_A_PERSON = re.compile(
    r"普通话|打字|听不懂|听不清|说不清|讲不清|机器|不会用|不识字|眼睛|眼神|眼花|看不清|耳朵|打不好"
)


def _tells_something(text: str) -> bool:
    """More than the request for a person ("我要转人工"): a story said along with it. Why a
    person is wanted ("俺跟机器说不清") is no story; what is said besides it may be one."""
    if tells_wrongdoing(text):
        return han_count(text) >= 20
    clauses = re.split(r"[，。,.!！?？；;\s]+", text)
    told = [c for c in clauses if not (_WHY_A_PERSON.search(c) or wants_person(c))]
    return sum(han_count(c) for c in told) >= 20


# "别问了 直接让人打我电话": no more questions but the phone.
_NO_MORE_QUESTIONS = re.compile(r"别问|不要问|问什么问|少啰嗦|啰嗦|直接(?:让|叫|找|转|打)|快点")


async def handoff_message(turn: Turn) -> None:
    text = turn.content
    asked = turn.slot("requested_slot")
    insists = wants_person(text) or _NO_MORE_QUESTIONS.search(text)
    questioned = asked in ("complaint_text", "village", "anonymity", "name")
    if questioned and insists and han_count(text) < 20:
        # Insisting on a person: only the phone is still needed to call back. Nothing
        # chosen about the name is 匿名.
        if turn.slot("anonymity") != "named" or not turn.slot("name"):
            turn.set(anonymity="anonymous")
        turn.set(village_tries=2, requested_slot=None)
    if turn.slot("requested_slot") == "complaint_text":
        # The answer to "什么事、哪个村": kept for the person, unless it only repeats the
        # request or refuses.
        # "俺要跟人说，俺家老头子去年查出来癌症…": the request again, with the story.
        story = han_count(text) >= 4 and (not wants_person(text) or _tells_something(text))
        # "不说" refuses; "…卖了多少钱谁也不知道" is the story (it had been dropped).
        if story and not (refuses_place(text) and han_count(text) <= 8):
            turn.set(complaint_text=text)
            await _place_in(turn, text)
        turn.set(requested_slot=None)
    _keep_phone(turn, text)  # said with an answer to another question: never asked again
    if turn.slot("requested_slot") in ("anonymity", "name", "phone") and han_count(text) >= 3:
        await _place_in(turn, text)  # "我们是沙埂村的" said late, at another question
    if turn.slot("requested_slot") == "village":
        if refuses_place(text) and han_count(text) <= 6 and turn.slot("anonymity") is None:
            turn.set(anonymity="anonymous")  # "不知道": no more questions but the phone
        await _village_answer(turn, text)
        turn.set(requested_slot=None)
        told_more = (
            han_count(text) >= 8
            and not refuses_place(text)
            and not find_phone(text)
            and not wants_person(text)
        )
        if not turn.slot("village") and told_more and int(turn.slot("village_tries") or 0) < 2:
            # More of the story instead of a village: asked once more, in plainer words.
            turn.set(village_tries=2)
            turn.ask("village", "utter_ask_village_again", example=example_village(None))
            return
    elif _should_ask_village(turn):
        turn.set(village_tries=1)
        turn.ask("village", "utter_ask_handoff_village", example=example_village(None))
        return
    if _who_is_calling(turn, text):
        return
    phone = turn.slot("phone")
    asked = turn.slot("requested_slot") == "phone"
    if asked and han_count(text) >= 8 and not find_phone(text):
        draft = turn.slot("complaint_text")
        turn.set(complaint_text=f"{draft}。{text}" if draft else text)  # for the person
        await _place_in(turn, text)
    if phone in (None, "none"):
        refused = han_count(text) <= 14 and answer_phone(text, None) == "none"
        tries = int(turn.slot("phone_tries") or 0) + 1 if asked else 0
        # Asked twice and no number either time: not asked a third time, taken as none.
        refused = refused or tries >= 2
        turn.set(phone_tries=tries)
        if asked and refused and han_count(turn.slot("complaint_text") or "") >= 8:
            # A matter told is never lost for want of a phone: it is filed (匿名 unless 留名
            # was chosen), with the request for a person in its history.
            from actions import filing  # filing answers policy questions through this module

            turn.say("utter_handoff_no_phone_filing")
            if turn.slot("anonymity") is None:
                turn.set(anonymity="anonymous")
            turn.set(task="file", phone="none", person_wanted=True, requested_slot=None)
            await filing.next_step(turn)
            return
        if asked and refused:
            turn.set(task=None, requested_slot=None)
            if record := await _note_on_last_filing(turn):
                # "那你给我转个人工，我还要补充几句" after the filing, and no phone: the wish
                # is in that case's history, and more words can still be told here.
                turn.say("utter_handoff_no_phone_noted", **number_values(record["number"]))
                turn.set(filed_record=record, awaiting="amend")  # what is told next: added
                return
            turn.say("utter_handoff_no_phone")
            return
        turn.ask("phone", "utter_ask_handoff_phone")
        return
    turn.set(phone=phone)
    await _hand_over(turn, phone)


def _keep_phone(turn: Turn, text: str) -> None:
    """The caller's number (SMS, voice) or one said in ``text``, read out in pieces with words
    between included, when no phone is kept yet."""
    read_out = answer_phone(text, None)
    read_out = None if read_out == "none" else read_out
    if turn.slot("phone") in (None, "none") and (found := turn.channel_phone or read_out):
        turn.set(phone=found)


async def _note_on_last_filing(turn: Turn) -> dict | None:
    """The record of the case this conversation has just filed, with the wish for a person
    written into its history (no phone: nobody can call back, but staff see it was asked).
    None when there is no such case or it no longer takes changes."""
    record = (turn.slot("last_filing") or {}).get("record") or {}
    if not record.get("key") or not record.get("number"):
        return None
    payload = {"idempotency_key": record["key"], "asked_for_person": True}
    try:
        reply = await case_api.amend_filing(record["number"], payload, turn.sender)
    except case_api.ServiceUnavailable:
        return None
    return record if reply.status == 200 else None


def _who_is_calling(turn: Turn, text: str) -> bool:
    """匿名 or 留名 for the case the person will call back about, asked once when a matter was
    told (an answer that chooses nothing is 匿名: never named by default). True when asked."""
    requested = turn.slot("requested_slot")
    if turn.slot("anonymity") is None and (requested == "anonymity" or not is_question(text)):
        wish = answer_anonymity(text, None) or ("named" if gives_name(text) else None)
        if wish or requested == "anonymity":
            turn.set(anonymity=wish or "anonymous")
    if turn.slot("anonymity") == "named" and not turn.slot("name"):
        if name := name_said(text) or (answer_name(text) if requested == "name" else None):
            turn.set(name=name)
        elif requested == "name":
            turn.set(anonymity="anonymous")  # no name given: kept safe
    if requested in ("anonymity", "name"):
        turn.set(requested_slot=None)
    if turn.slot("anonymity") is None and _tells_a_matter(turn):
        turn.ask("anonymity", "utter_ask_anonymity")
        return True
    if turn.slot("anonymity") == "named" and not turn.slot("name"):
        turn.ask("name", "utter_ask_name")
        return True
    return False


def _tells_a_matter(turn: Turn) -> bool:
    """A matter the person will call back about, not yet on a case. Not on a call that is put
    through to a person at once (``HOTLINE_OPERATOR_NUMBER``), who asks; without one, a caller
    too is called back, and the case must say who it may name."""
    put_through = turn.channel == "voice" and bool(os.environ.get("HOTLINE_OPERATOR_NUMBER"))
    return bool(
        not put_through
        and turn.slot("complaint_text")
        and turn.slot("handoff_reason") in (ASKED_FOR_PERSON, NOT_UNDERSTOOD)
        and not turn.slot("filed_number")
    )


def _should_ask_village(turn: Turn) -> bool:
    """Once, before the phone: which village, so the person who calls back (or answers the
    transferred call) knows where. Not when already said."""
    return (
        # A matter to tell: asked for a person, or told a story the bot could not follow.
        (
            turn.slot("handoff_reason") == ASKED_FOR_PERSON
            or (turn.slot("handoff_reason") == NOT_UNDERSTOOD and turn.slot("complaint_text"))
        )
        and not turn.slot("village")
        and not turn.slot("village_tries")
        and not turn.slot("filed_number")
    )


async def _village_answer(turn: Turn, text: str) -> None:
    """A village (kept), a refusal (fine), or more of the story (kept for the person)."""
    await _place_in(turn, text, answers_place=han_count(text) <= 8)
    refusal = refuses_place(text) and han_count(text) <= 12  # not "…钱去哪了谁也不知道"
    if not turn.slot("village") and han_count(text) >= 8 and not refusal:
        draft = turn.slot("complaint_text")
        turn.set(complaint_text=f"{draft}。{text}" if draft else text)


async def _place_in(turn: Turn, text: str, answers_place: bool = False) -> None:
    """A village named in what the resident tells while waiting for a person goes with it."""
    if turn.slot("village"):
        return
    try:
        understood = await case_api.understand(text, answers_place=answers_place, classify=False)
        place = understood.get("place") or {}
    except case_api.ServiceUnavailable:
        return
    if place.get("village"):
        turn.set(
            village=place["village"],
            township=place.get("township"),
            village_group=place.get("group"),
            village_known=bool(place.get("known")),
        )


def _story_part(text: str) -> str:
    """The story without the request for a person and why ("你是机器吧？俺跟机器说不清，给俺
    找个活人。"): the header says that, and its words pull the item towards 清单外."""
    # Spaces part clauses too: texts and speech transcripts seldom carry punctuation.
    clauses = re.findall(r"[^，。,.!！?？；;\s]+[，。,.!！?？；;\s]*", text)
    # Only short clauses: one that goes on to the matter ("跟机器说不清村里低保被会计改了的事")
    # is kept whole.
    kept = [
        c for c in clauses if han_count(c) > 12 or not (wants_person(c) or _WHY_A_PERSON.search(c))
    ]
    return "".join(kept).strip() or text


def _transcript(turn: Turn, events: list[dict]) -> list[str]:
    """What the resident said, for the person who calls back: commands and numbers left out
    (a phone said in passing must not land in the case text)."""
    said = []
    for event in events[-40:]:
        if event.get("event") != "user" or not event.get("text"):
            continue
        text = str(event["text"])
        if text.startswith("/"):
            continue
        # "我是开养鸡场的 找你们领导当面说": who they are stays, the request goes.
        text = _story_part(_NUMBERS.sub("…", text).strip())
        if wants_person(text) and han_count(text) < 30:
            continue  # only the request for a person: the reason says it, and it tells no matter
        if text and text != "…":
            said.append(text[:500])
    draft = turn.slot("complaint_text")
    if draft and draft not in said:
        said.insert(0, draft)
    return said[-10:]


async def _hand_over(turn: Turn, phone: str) -> None:
    payload = {
        "conversation_id": turn.sender[:100],
        "channel": turn.channel,
        "phone": phone,
        "case_number": turn.slot("filed_number"),
        "reason": turn.slot("handoff_reason") or "居民要求转人工",
        "transcript": _transcript(turn, turn.metadata.get("events") or []),
        "anonymous": turn.slot("anonymity") != "named",
    }
    if turn.slot("anonymity") == "named" and turn.slot("name"):
        payload["name"] = turn.slot("name")
    village = turn.slot("village")
    if village and village != "未说明":
        payload.update(
            village=village,
            township=turn.slot("township"),
            village_group=turn.slot("village_group"),
            village_flagged=not turn.slot("village_known"),
        )
    try:
        reply = await case_api.request_person(payload, client=turn.sender)
    except case_api.ServiceUnavailable:
        turn.say("utter_handoff_failed")
        turn.set(task=None, requested_slot=None)
        return
    turn.set(task=None, requested_slot=None, handoff_reason=None, misunderstood=0, village_tries=0)
    if reply.status not in (200, 201):
        turn.say("utter_handoff_failed")
        return
    number = reply.body.get("number") or ""
    turn.say("utter_handoff_done", phone=say_digits(phone), **number_values(number))
    if number and reply.status == 201:
        # The case the person will call about; asked again, the request joins it (no second).
        turn.set(last_case=number, filed_number=number)
        key = reply.body.get("idempotency_key")
        if key:
            # Nothing told yet ("别问了，让人打我电话"): what is told next goes into this case;
            # with the story told, only more of it ("还有个事儿俺得说一下，…").
            told = tells_a_matter(turn.slot("complaint_text") or "")
            items = [c for c in (turn.slot("category"), *(turn.slot("top_items") or [])) if c]
            turn.set(handoff_open={"number": number, "key": key, "told": told, "items": items})
    turn.signal(handoff=True)
    if turn.slot("complaint_text"):
        turn.clear_filing()


async def add_to_handoff(turn: Turn, understood: dict) -> bool:
    """The story told after a request for a person that told none, or more of the story told
    with it: added to that case (with a village said in it), so the person who calls back reads
    it and no second case is made. False for another matter, or when the case no longer takes
    words (in staff hands, or too late): then it is filed."""
    from actions import filing  # imported here: filing imports this module

    opened = turn.slot("handoff_open") or {}
    if opened.get("told") and not await filing.continues_matter(
        turn, turn.content, opened.get("items") or []
    ):
        return False  # another matter than the one handed over: a case of its own
    payload: dict = {"idempotency_key": opened.get("key"), "addendum": turn.content[:500]}
    place = understood.get("place") or {}
    if place.get("village"):
        payload.update(
            village=place["village"],
            township=place.get("township"),
            village_group=place.get("group"),
            village_flagged=not place.get("known"),
        )
    try:
        reply = await case_api.amend_filing(opened.get("number", ""), payload, client=turn.sender)
    except case_api.ServiceUnavailable:
        reply = None
    if reply is None or reply.status != 200:
        turn.set(handoff_open=None)
        return False
    turn.say("utter_handoff_added", **number_values(opened["number"]))
    turn.set(handoff_open={**opened, "told": True})
    return True


def goodbye(turn: Turn) -> None:
    if turn.slot("task") == "file" and turn.slot("complaint_text"):
        turn.say("utter_draft_kept")
    turn.set(task=None, awaiting=None, requested_slot=None, misunderstood=0)
    turn.say("utter_goodbye")
    turn.signal(end_call=True)


def misunderstood(turn: Turn) -> None:
    count = int(turn.slot("misunderstood") or 0) + 1
    if count >= 2:
        turn.set(misunderstood=0, handoff_reason=NOT_UNDERSTOOD)
        turn.await_answer("handoff_offer", "utter_offer_person")
        return
    turn.set(misunderstood=count)
    turn.say("utter_misunderstood")
