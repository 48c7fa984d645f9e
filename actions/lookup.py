"""Asking about a case and rating it: a case number (typed, spaced, spoken, or mistyped) and the
phone it was filed from. A wrong or partial number stays here, with a word on what looks wrong;
two failures offer a person. After an answer, 满意/不满意 rates that case and a question about
it is answered, not filed."""

from __future__ import annotations

from actions import case_api
from actions.conversation import Turn
from actions.details import answer_phone
from actions.meaning import is_question, lost_number, rating_in, refuses_place, wants_to_rate
from common.case_numbers import LENGTH
from common.digits import digit_runs, find_case_number, find_phone

LOCKED = 429


def number_problem(text: str) -> str | None:
    """Why the digits said are no case number: 'short' / 'long' (with the count) or 'check'
    (8 digits that fail the check digit). None when there is no number-like run at all."""
    runs = [run for run in digit_runs(text) if len(run) >= 4 and not find_phone(run)]
    if not runs:
        return None
    run = max(runs, key=len)
    if len(run) == LENGTH:
        return "check"
    return f"length:{len(run)}"


async def start_status(turn: Turn) -> None:
    turn.set(task="status", failed_lookups=0, case_number=None)
    await status_message(turn)


async def status_message(turn: Turn) -> None:
    """A message while asking about a case: a number, a phone, or both."""
    text = turn.content
    rating = rating_in(text)
    if (rating or wants_to_rate(text)) and turn.slot("task") == "status":
        turn.set(task="rate", rating=rating)  # the resident came to rate it ("这个要怎么评价")
    # "没记，你用电话查嘛，183…": a phone is no case number; asked twice, a person is offered.
    other_digits = [run for run in digit_runs(text) if not find_phone(run)]
    no_number = turn.slot("requested_slot") == "case_number" and not other_digits
    if no_number and (
        lost_number(text) or refuses_place(text) or turn.asked_in_vain("case_number")
    ):
        turn.set(task=None, case_number=None, handoff_reason="居民没有案件号，想查进度")
        turn.await_answer("handoff_offer", "utter_lost_number")
        return
    number, _near = find_case_number(text)
    if number:
        turn.set(case_number=number)
    elif turn.slot("case_number") is None and (problem := number_problem(text)):
        _fail(turn, problem)
        return
    if (phone := find_phone(text)) and phone != number:
        turn.set(phone=phone)
    if turn.slot("requested_slot") == "phone" and not find_phone(text):
        value = answer_phone(text, turn.channel_phone)
        if value and value != "none":
            turn.set(phone=value)
        elif value == "none" or refuses_place(text) or turn.asked_in_vain("phone"):
            # Without the phone it was filed from, a case is not shown: offer a person.
            turn.set(task=None, case_number=None, handoff_reason="居民说不出当时留的电话，想查进度")
            turn.await_answer("handoff_offer", "utter_status_needs_phone")
            return
    await _next(turn)


async def _next(turn: Turn) -> None:
    number = turn.slot("case_number")
    if not number:
        number = turn.slot("last_case") if turn.slot("task") == "rate" else None
        if number:
            turn.set(case_number=number)
        else:
            response = (
                "utter_ask_rating_case" if turn.slot("task") == "rate" else "utter_ask_case_number"
            )
            turn.ask("case_number", response)
            return
    phone = _phone(turn)
    if not phone:
        turn.ask("phone", "utter_ask_status_phone")
        return
    if turn.slot("task") == "rate" and not turn.slot("rating"):
        turn.await_answer("rating", "utter_status_rate_hint")  # the case is known: how was it?
        return
    if turn.slot("task") == "rate":
        await _rate(turn, number, phone)
    else:
        await _status(turn, number, phone)


def _phone(turn: Turn) -> str | None:
    phone = turn.slot("phone")
    if phone in (None, "none"):
        phone = turn.channel_phone
    return phone


def _fail(turn: Turn, problem: str) -> None:
    """A number that is not a case number, or a lookup that found nothing."""
    failed = int(turn.slot("failed_lookups") or 0) + 1
    turn.set(failed_lookups=failed, case_number=None)
    if failed >= 2:
        turn.set(task=None)
        turn.await_answer("handoff_offer", "utter_offer_person_lookup")
        turn.set(handoff_reason="查询案件两次没有查到")
        return
    if problem.startswith("length:"):
        turn.ask("case_number", "utter_case_number_length", count=problem.split(":")[1])
    elif problem == "check":
        turn.ask("case_number", "utter_case_number_wrong")
    else:
        turn.ask("case_number", "utter_status_not_found")


async def _status(turn: Turn, number: str, phone: str) -> None:
    try:
        reply = await case_api.case_status(number, phone, client=turn.sender)
    except case_api.ServiceUnavailable:
        turn.say("utter_busy")
        return
    if reply.status == LOCKED:
        turn.set(task=None, case_number=None)
        turn.await_answer("handoff_offer", "utter_status_locked")
        return
    if reply.status != 200:
        if turn.channel == "web":
            turn.set(phone=None)
        _fail(turn, "not_found")
        return
    body = reply.body
    turn.say("utter_status", summary=body.get("summary", ""))
    turn.set(
        task=None,
        case_number=None,
        failed_lookups=0,
        last_case=number,
        phone=phone,
        requested_slot=None,
        awaiting=None,
    )
    if body.get("state") == "已办结":
        # The rating was invited: "糊弄鬼呢，一分钱没分到，不满意！！" rates this case.
        turn.await_answer("rating_offer", "utter_status_rate_hint")
    else:
        turn.say("utter_anything_else_question")


async def start_rating(turn: Turn) -> None:
    """满意/基本满意/不满意 — for the case just asked about or named in the message."""
    text = turn.content
    number, _near = find_case_number(text)
    turn.set(
        task="rate",
        rating=rating_in(text),
        case_number=number or turn.slot("last_case") or turn.slot("filed_number"),
        failed_lookups=0,
    )
    if phone := find_phone(text):
        turn.set(phone=phone)
    await _next(turn)


async def rating_message(turn: Turn) -> None:
    if rating := rating_in(turn.content):
        turn.set(rating=rating)
    if turn.slot("awaiting") == "rating":
        turn.set(awaiting=None)
        if not turn.slot("rating"):
            # "那还会有人来重新弄吗": what a rating does, then the question again.
            turn.say("utter_rating_explain" if is_question(turn.content) else "utter_misunderstood")
            turn.await_answer("rating", "utter_status_rate_hint")
            return
        await _next(turn)
        return
    await status_message(turn)


async def _rate(turn: Turn, number: str, phone: str) -> None:
    rating = turn.slot("rating") or "满意"
    try:
        reply = await case_api.rate_case(number, phone, rating, client=turn.sender)
    except case_api.ServiceUnavailable:
        turn.say("utter_busy")
        return
    done = {"task": None, "case_number": None, "rating": None, "requested_slot": None}
    if reply.status == LOCKED:
        turn.set(**done)
        turn.await_answer("handoff_offer", "utter_status_locked")
        return
    if reply.status == 404:
        _fail(turn, "not_found")
        return
    turn.set(**done)
    if reply.status == 200:
        turn.say("utter_rated", rating=rating)
        if rating == "不满意":
            turn.say("utter_rated_reopen")
    else:
        turn.say(
            "utter_rating_refused", reason=str(reply.body.get("detail", "现在还不能评价这个案件。"))
        )
    turn.say("utter_anything_else_question")


async def answer_left_lookup(turn: Turn, phone: str) -> None:
    """ "问一下 4415 6966 到哪一步了" — then, asked for the phone, a new matter instead ("还有个
    新事…"). Once that filing has the phone, the case asked about first is answered too (its
    number was still waiting): the same check as any lookup, so a wrong phone learns nothing."""
    number = turn.slot("case_number")
    if not number or turn.slot("task") not in (None, "file"):
        return
    turn.set(case_number=None)
    try:
        reply = await case_api.case_status(number, phone, client=turn.sender)
    except case_api.ServiceUnavailable:
        return
    if reply.status == 200:
        turn.say("utter_status", summary=reply.body.get("summary", ""))


def can_follow_up(turn: Turn) -> bool:
    """A case of this conversation and the phone it was filed with: enough to look it up."""
    return bool(turn.slot("last_case") and _phone(turn))


async def follow_up(turn: Turn) -> None:
    """A question right after a status answer or a filing ("那要多久？"): answered from the
    case itself (its state, who handles it, the deadline in working days)."""
    number = turn.slot("last_case")
    phone = _phone(turn)
    if not number or not phone:
        turn.say("utter_misunderstood")
        return
    turn.set(task="status")
    await _status(turn, number, phone)
