"""The one action that answers every message (every rule in bot/data/rules.yml leads here).

What a message means depends first on what the bot just asked (a read-back, a question of a
form-like flow), then on what the message itself says (a case number, a rating, a story), and
only then on the intent the model guessed. Deciding that in one place, in plain code, is what
keeps a story from being stored as a village or a case number from becoming a complaint."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import case_api, filing, helpdesk, lookup
from actions.conversation import Turn
from actions.meaning import (
    about_a_case,
    announces_matter,
    asks_about_anonymity,
    asks_can_report,
    asks_how_to,
    asks_if_machine,
    asks_policy_at_length,
    asks_status,
    asks_to_repeat,
    asks_when,
    asks_who,
    asks_who_handles,
    beyond_fear,
    compact,
    fed_up,
    finished_words,
    is_bare_request,
    is_filler,
    is_no,
    is_question,
    is_yes,
    just_asking,
    lost_number,
    means_to_report,
    only_asks_if_machine,
    only_upset,
    rating_in,
    reported_before,
    reports_done,
    says_goodbye,
    tells_story,
    tells_wrongdoing,
    wants_person,
    wants_to_rate,
)
from actions.policy import item_named_in, load_policies
from actions.wording import han_count
from common.digits import find_case_number, find_phone, to_digits

# Intents named by buttons and keypad payloads ("/check_case").
_COMMAND_INTENTS = {
    "/report_problem": "report_problem",
    "/check_case": "check_case",
    "/ask_human": "ask_human",
    "/ask_policy": "ask_policy",
    "/affirm": "affirm",
    "/deny": "deny",
    "/goodbye": "goodbye",
}
_STORY_INTENTS = {"report_problem", "give_details", "correct_item"}


def turn_from(tracker: Tracker) -> Turn:
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    text = (message.get("text") or "").strip()
    name = intent.get("name") or ""
    if text.startswith("/"):
        name = _COMMAND_INTENTS.get(text.split("{")[0], name)
    return Turn(
        text=text,
        intent=name,
        confidence=float(intent.get("confidence") or 0.0),
        input_channel=tracker.get_latest_input_channel() or "",
        sender=tracker.sender_id,
        slots=dict(tracker.current_slot_values()),
        metadata={**(message.get("metadata") or {}), "events": list(tracker.events)},
    )


async def route(turn: Turn) -> None:
    text, intent = turn.content, turn.intent
    awaiting, task = turn.slot("awaiting"), turn.slot("task")
    if turn.metadata.get("call_ended"):
        await filing.call_ended(turn)
        return
    if _sent_again(turn):
        # The same long message twice (a double tap, a resend): kept once, not a correction
        # nor a second case.
        turn.say("utter_said_already")
        if task == "file" and not awaiting:
            await filing.next_step(turn)
        return
    if asks_to_repeat(text) and (said := _said_last(turn)):
        for line in said:  # "你说慢一点 我没听清 再说一遍": the same words, nothing changed
            turn.say("utter_again", text=line)
        return
    if only_asks_if_machine(text):
        turn.say("utter_who_answers")  # answered plainly; the way to a person is in it
        if task == "file":
            await filing.next_step(turn)  # the open question again
        return
    asks_person = intent == "ask_human" and (turn.is_command or han_count(text) <= 12)
    # "跟你们说个事": about to tell, not asking for a person (whatever the intent model says).
    if wants_person(text) or (
        asks_person and not is_bare_request(text) and not announces_matter(text)
    ):
        await helpdesk.start_handoff(turn, helpdesk.ASKED_FOR_PERSON)
        return
    if intent == "goodbye" and han_count(text) <= 8 and not is_yes(text) and says_goodbye(text):
        helpdesk.goodbye(turn)
        return
    if awaiting == "amend" and await filing.after_filing(turn):
        return
    if awaiting in ("confirm", "correction"):
        await filing.at_read_back(turn)
        return
    if awaiting == "handoff_offer":
        turn.set(awaiting=None)
        if is_yes(text) or intent == "affirm":
            await helpdesk.start_handoff(turn, turn.slot("handoff_reason") or "居民同意转人工")
            return
        if is_no(text) or intent == "deny":
            turn.say("utter_ok")
            return
    if awaiting == "rating_offer":
        turn.set(awaiting=None)
        if rating_in(text) and not find_case_number(text)[0]:
            await lookup.start_rating(turn)
            return
    if awaiting == "resume":
        turn.set(awaiting=None)
        if is_yes(text) or intent == "affirm":
            turn.set(task="file")
            turn.say("utter_continue")
            await filing.next_step(turn)
            return
        if is_no(text) or intent == "deny":
            turn.clear_filing()
            turn.set(task=None)
            turn.say("utter_draft_dropped")
            return
    if task == "file":
        await filing.on_message(turn)
        return
    if awaiting == "rating" and task == "rate":
        await lookup.rating_message(turn)
        return
    if task in ("status", "rate") and not _leaves_lookup(turn):
        await (lookup.rating_message if task == "rate" else lookup.status_message)(turn)
        return
    if task == "handoff" and turn.slot("requested_slot") == "complaint_text" and asks_how_to(text):
        turn.set(task=None, requested_slot=None)  # a policy question instead: answered below
    elif task == "handoff" and turn.slot("requested_slot") in helpdesk.HANDOFF_QUESTIONS:
        await helpdesk.handoff_message(turn)
        return
    await fresh(turn)


def _leaves_lookup(turn: Turn) -> bool:
    """While asking for a case number: a story or a request for something else ends it."""
    text = turn.content
    if find_case_number(text)[0] or lookup.number_problem(text) or not text or find_phone(text):
        return False  # "俺的电话是幺五幺五六洞…": the phone asked for, in spoken digits
    if rating_in(text) or wants_to_rate(text):
        return False  # "不满意！…", "这个要怎么评价": about the case being asked after
    return han_count(to_digits(text)) >= 14 or turn.intent in ("ask_policy", "greet")


async def fresh(turn: Turn) -> None:
    """A message with no question open: decide what the resident wants."""
    text, intent = turn.content, turn.intent
    turn.set(task=None, requested_slot=None)
    number, _near = find_case_number(text)
    known_case = number or turn.slot("last_case") or turn.slot("filed_number")
    # "基本满意吧，工资是补了，但是…": a rating first, the reasons after.
    rates = rating_in(text) and (
        han_count(text) <= 12 or "评价" in text or number or rating_in(text[:8])
    )
    if rates and known_case:
        await lookup.start_rating(turn)
        return
    if (
        wants_to_rate(text)
        or reports_done(text)
        or (rating_in(text) and (intent == "rate_case" or finished_words(text)))
    ):
        await lookup.start_rating(turn)
        return
    if lost_number(text) and not number:
        turn.await_answer("handoff_offer", "utter_lost_number")
        turn.set(handoff_reason="居民忘了案件号，想查进度")
        return
    named_item = item_named_in(text, load_policies())
    how_to = asks_how_to(text)
    if named_item and how_to and not number and not rating_in(text) and not tells_wrongdoing(text):
        helpdesk.policy(turn, named_item)
        return
    if asks_if_machine(text) and han_count(text) <= 10 and not number:
        turn.say("utter_who_answers")  # "喂？是人不是？": said plainly, with the way to a person
        return
    if is_filler(text) and not is_yes(text) and not number:
        helpdesk.greet(turn)  # "那个", "喂喂": the resident is about to speak; no case number
        return
    understood = None
    about_handling = asks_when(text) or asks_who_handles(text)
    if about_handling and han_count(text) <= 24 and not number and lookup.can_follow_up(turn):
        # "多久给个说法？别又是踢皮球", "谁负责办这个？" after the filing: answered from the
        # case (who handles it, by when), not "您说说是什么事".
        await lookup.follow_up(turn)
        return
    if fed_up(text) and not number and not named_item:
        turn.say("utter_heard_you")  # "打了八百回电话没人管": heard, then what happened
        await filing.start(turn, None, tells=False)
        return
    if only_upset(text) and not number and not named_item:
        # "妈的 这还有没有王法了", "气死我了，还讲不讲理了": no question about a policy or a
        # case (whatever the intent model says): feelings first, the matter next.
        understood = await _understand(text)
        if not tells_story(text, understood.get("category"), understood.get("confidence")):
            turn.say("utter_calm_down")
            await filing.start(turn, understood, tells=False)
            return
    checks = (
        intent == "check_case"
        and not means_to_report(text)
        and (han_count(text) <= 16 or about_a_case(text))
    )
    status_words = asks_status(text) and (han_count(text) <= 16 or reported_before(text))
    if number or checks or status_words:
        await lookup.start_status(turn)
        return
    # "帮我查下这个号 11743080": a number that fails its check, with few words around it.
    if lookup.number_problem(text) and (
        han_count(text) <= 6
        or (han_count(text) <= 16 and about_a_case(re.sub(r"\d", "", to_digits(text))))
    ):
        await lookup.start_status(turn)
        return
    if intent == "rate_case" and rating_in(text):
        await lookup.start_rating(turn)
        return
    if intent == "greet" and han_count(text) <= 8 and not is_bare_request(text):
        helpdesk.greet(turn)
        return
    understood = understood or await _understand(text)
    if asks_about_anonymity(text) or (
        "匿名" in text and is_question(text) and han_count(text) <= 20
    ):
        # "我不想让村干部知道是我反映的": explained first; a story only if the words tell one.
        turn.say("utter_explain_anonymity")
        # "你们管不管村干部的事？我怕他知道了报复我，他兄弟横得很": fear, no matter yet.
        matter = beyond_fear(text)
        in_list = understood.get("category") not in (None, "OUT")
        sure = in_list and (understood.get("confidence") or 0) >= 0.5
        tells = han_count(matter) >= 8 and (
            tells_wrongdoing(matter) or (sure and han_count(matter) >= 12)
        )
        await filing.start(turn, understood, tells=tells)
        return
    story = tells_story(text, understood.get("category"), understood.get("confidence"))
    # "…被派出所抓了，要我打三万块保证金，我现在去银行还来得及吗": a scam, never a policy question.
    scam = filing.tells_scam(text)
    wrong = tells_wrongdoing(text) or scam
    # A question after a filing or a status answer, with nothing said to have gone wrong ("那账
    # 上的钱以后村里还能随便动不"), is answered, not filed.
    if turn.slot("last_case") and is_question(text) and not (story and wrong):
        guess = understood.get("category")
        sure = guess not in (None, "OUT") and (understood.get("confidence") or 0) >= 0.6
        if named_item and (intent == "ask_policy" or how_to):
            helpdesk.policy(turn, named_item)
        elif story and sure and not asks_status(text):
            helpdesk.policy(turn, guess)  # about a programme, not about the case
        else:
            await lookup.follow_up(turn)
        return
    # A grievance put as a question ("村长贪污，你们管不管？") is still a grievance.
    policy_question = not scam and (
        (intent == "ask_policy" and not story) or asks_policy_at_length(text)
    )
    grievance = wrong and not just_asking(text)  # "老板欠俺工钱不给，找谁都不管"
    short_how_to = how_to and not grievance and (not story or han_count(text) <= 20)
    # "俺邻居家瘫着的那个，重度残疾人护理补贴是谁管？": who runs a programme named.
    who_runs = named_item and asks_who(text) and is_question(text) and not grievance
    if policy_question or (how_to and just_asking(text)) or short_how_to or who_runs:
        helpdesk.policy(turn, named_item, understood)
        return
    if story and turn.slot("handoff_open") and await helpdesk.add_to_handoff(turn, understood):
        return  # told after asking for a person (without saying what about, or more): that case
    if story and await filing.more_of_last(turn):
        return  # "还有，他上回…" after the record was confirmed: added to that case
    if story or intent in _STORY_INTENTS or is_bare_request(text):
        await filing.start(turn, understood)
        return
    if asks_can_report(text):
        await filing.start(turn, understood, tells=False)  # "可以，您请说"
        return
    if intent == "chitchat":
        turn.say("utter_chitchat")
        return
    if intent in ("affirm", "deny") and han_count(text) <= 4:
        turn.say("utter_ok")
        return
    if means_to_report(text):
        await filing.start(turn, understood, tells=False)  # "我想反映个村里的事，…": 您请说
        return
    if _about_own_family(text):
        await filing.start(turn, understood)  # "俺孙子在县里读职高": the story's first line
        return
    if says_goodbye(text) and han_count(text) <= 8:
        helpdesk.goodbye(turn)  # "中，谢谢恁啊" with nothing asked: thanks, not a riddle
        return
    helpdesk.misunderstood(turn)


# "俺孙子在县里读职高", "我家老头子前年瘫了": a caller starting on their own family's
# situation, not a question: the first line of a story, kept as one.
_OWN_FAMILY = re.compile(
    r"^(?:我|俺|咱)(?:家|们家|屋头|屋里)?(?:的)?(?:孙|儿|女|闺女|老|爸|妈|爹|娘|爷|奶|媳妇|男人|婆)"
)


def _about_own_family(text: str) -> bool:
    return bool(_OWN_FAMILY.match(compact(text))) and han_count(text) >= 6 and not is_question(text)


def _sent_again(turn: Turn) -> bool:
    """This message is the resident's previous one again, word for word, and long (a short
    answer said twice is an answer to a question asked twice)."""
    if han_count(turn.content) < 20:
        return False
    # Only a story already taken: what was asked again ("是什么事？") may be answered with the
    # same words, and a request for a person said twice is still that request.
    stored = compact(turn.slot("complaint_text") or "")
    taken = turn.slot("awaiting") == "amend" or (
        turn.slot("task") == "file" and compact(turn.content) in stored
    )
    if not taken:
        return False
    users = [e for e in turn.metadata.get("events") or [] if e.get("event") == "user"]
    # The events end with this message itself; the one before it is the previous message.
    previous = users[-2].get("text") if len(users) >= 2 else None
    return previous is not None and compact(str(previous)) == compact(turn.content)


def _said_last(turn: Turn) -> list[str]:
    """What the bot said in its last turn, before this message (as this channel said it)."""
    said: list[str] = []
    users = 0
    for event in reversed(turn.metadata.get("events") or []):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                break
        elif event.get("event") == "bot" and users == 1 and event.get("text"):
            said.append(str(event["text"]))
    return said[::-1]


async def _understand(text: str) -> dict[str, Any]:
    if han_count(text) < 2:
        return {}
    try:
        return await case_api.understand(text, classify=True)
    except case_api.ServiceUnavailable:
        return {}


class ActionTurn(Action):
    def name(self) -> str:
        return "action_turn"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = turn_from(tracker)
        await route(turn)
        for response, values in turn.said:
            dispatcher.utter_message(response=response, **values)
        for flags in turn.extra:
            dispatcher.utter_message(json_message=flags)
        return [SlotSet(name, value) for name, value in turn.changes.items()]
