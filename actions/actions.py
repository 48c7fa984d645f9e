"""The bot's custom actions (Rasa SDK). Each action reads the tracker, calls the pure helpers in
this package and the case service over HTTP, and answers in short, plain sentences.

The conversation keeps a little state in slots: ``awaiting`` says what a 对 or 不对 answers
(a read-back, an offer of a person, continuing an unfinished complaint)."""

from __future__ import annotations

import hashlib
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import case_api
from actions.details import answer_anonymity, answer_phone, answer_village, find_village
from actions.policy import answer, item_named_in, load_policies
from actions.spoken import find_case_number, find_phone
from actions.wording import (
    excerpt,
    han_count,
    is_bare_request,
    plain_date,
    rating_in,
    read_back,
    receipt,
)

# Channels whose sender is a phone number verified by the carrier (see bot/channels).
PHONE_CHANNELS = {"hotline_voice": "voice", "hotline_sms": "sms"}
# Intents that are never an answer to a form's question.
INTERRUPTIONS = {"ask_human", "goodbye", "greet", "chitchat", "out_of_scope", "nlu_fallback"}
OUT_OF_LIST_SURE = 0.4
COMPLAINT_SLOTS = (
    "complaint_text",
    "draft_text",
    "village",
    "anonymity",
    "category",
    "resident_category",
)
SORRY_BUSY = "系统暂时忙不过来，这次没能登记成功。请过一会儿再说一次“对”，或者说“转人工”。"


def channel_of(tracker: Tracker) -> str:
    return PHONE_CHANNELS.get(tracker.get_latest_input_channel() or "", "web")


def channel_phone(tracker: Tracker) -> str | None:
    """The caller's or texter's own number, only from channels that verify it."""
    if channel_of(tracker) == "web":
        return None
    metadata = tracker.latest_message.get("metadata") or {}
    phone = find_phone(str(metadata.get("phone") or tracker.sender_id))
    return phone


def intent_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def text_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def user_said(tracker: Tracker, last: int = 10) -> list[str]:
    texts = [e.get("text") for e in tracker.events if e.get("event") == "user" and e.get("text")]
    return [t[:500] for t in texts[-last:]]


def phone_or_none(value: str | None) -> str | None:
    return None if value in (None, "none") else value


def item_name(code: str | None) -> str | None:
    policy = load_policies().get(code or "")
    return policy.name if policy else None


def reset_complaint() -> list[EventType]:
    return [SlotSet(slot, None) for slot in COMPLAINT_SLOTS] + [SlotSet("awaiting", None)]


async def out_of_list_defaults(text: str, tracker: Tracker) -> list[EventType]:
    """A matter outside the list is recorded at once without the village questions: the
    resident is told where it belongs, and staff still see it counted as 清单外."""
    try:
        guess = await case_api.classify(text)
    except case_api.ServiceUnavailable:
        return []
    if guess.get("category") != "OUT" or guess.get("confidence", 0) < OUT_OF_LIST_SURE:
        return [SlotSet("category", guess.get("category"))]
    events: list[EventType] = [SlotSet("category", "OUT")]
    if tracker.get_slot("village") is None:
        events.append(SlotSet("village", "未说明"))
    if tracker.get_slot("anonymity") is None:
        events.append(SlotSet("anonymity", "anonymous"))
    if tracker.get_slot("phone") is None:
        events.append(SlotSet("phone", channel_phone(tracker) or "none"))
    return events


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        draft = tracker.get_slot("complaint_text")
        if draft and not tracker.active_loop_name:
            dispatcher.utter_message(
                text=f"您好。您上次反映的“{excerpt(draft, 30)}”还没登记完，要接着登记吗？"
            )
            return [SlotSet("awaiting", "resume")]
        if tracker.active_loop_name:
            dispatcher.utter_message(text="您好，我们接着刚才的说。")
            return []
        dispatcher.utter_message(
            text="您好，这里是小微权力监督热线。您可以反映村里的问题、查询案件进度、咨询政策，"
            "也可以说“转人工”。请问有什么事？"
        )
        return []


class ActionStartComplaint(Action):
    """A complaint (or a correction of one before it is filed): take what the message already
    says, so the form asks only for what is missing."""

    def name(self) -> str:
        return "action_start_complaint"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        text, intent = text_of(tracker), intent_of(tracker)
        if tracker.get_slot("awaiting") in ("confirm", "correction"):
            return await self._correct(text, intent, tracker)
        if tracker.active_loop_name == "complaint_form":
            return self._add(text, tracker)
        events = reset_complaint()
        phone = tracker.get_slot("phone") or channel_phone(tracker) or find_phone(text)
        events.append(SlotSet("phone", phone))
        village = find_village(text)
        if village:
            events.append(SlotSet("village", village))
        anonymity = answer_anonymity(text, None)
        if anonymity:
            events.append(SlotSet("anonymity", anonymity))
        if intent == "correct_item":
            code = item_named_in(text, load_policies())
            events.append(SlotSet("resident_category", code))
        if intent in ("report_problem", "correct_item") and not is_bare_request(text):
            # The form validates the new text next (validate_complaint_text), which classifies
            # it once and fills the defaults for a matter outside the list.
            events.append(SlotSet("complaint_text", text))
        return events

    def _add(self, text: str, tracker: Tracker) -> list[EventType]:
        """More words while the form is asking something else: part of the same complaint."""
        events: list[EventType] = []
        current = tracker.get_slot("complaint_text")
        if not current:
            events.append(SlotSet("complaint_text", text))
        elif text not in current and han_count(text) >= 4:
            events.append(SlotSet("complaint_text", f"{current}。{text}"))
        if tracker.get_slot("village") is None and (village := find_village(text)):
            events.append(SlotSet("village", village))
        if tracker.get_slot("phone") is None and (phone := find_phone(text)):
            events.append(SlotSet("phone", phone))
        return events

    async def _correct(self, text: str, intent: str, tracker: Tracker) -> list[EventType]:
        events: list[EventType] = [SlotSet("awaiting", None), SlotSet("category", None)]
        code = item_named_in(text, load_policies())
        village = find_village(text)
        phone = find_phone(text)
        anonymity = answer_anonymity(text, None)
        if code:
            events.append(SlotSet("resident_category", code))
        if village:
            events.append(SlotSet("village", village))
        if phone:
            events.append(SlotSet("phone", phone))
        if anonymity:
            events.append(SlotSet("anonymity", anonymity))
        if not (code or village or phone or anonymity) and han_count(text) >= 4:
            # Not a correction of a detail: the resident is adding to what happened.
            previous = tracker.get_slot("complaint_text") or ""
            events.append(SlotSet("complaint_text", f"{previous}。{text}".strip("。")))
        return events


class ValidateComplaintForm(FormValidationAction):
    """Fills the complaint form from free speech: several short messages build up the
    complaint, and a place or phone said in passing is kept."""

    def name(self) -> str:
        return "validate_complaint_form"

    async def extract_complaint_text(self, dispatcher, tracker, domain) -> dict[str, Any]:
        text, intent = text_of(tracker), intent_of(tracker)
        requested = tracker.get_slot("requested_slot")
        if requested == "complaint_text" and intent == "nlu_fallback" and han_count(text) >= 3:
            intent = "report_problem"  # an unusual complaint is still the answer asked for
        if intent in INTERRUPTIONS or not text:
            return {}
        if requested == "complaint_text":
            if is_bare_request(text) or intent in ("affirm", "deny"):
                return {}
            return {"complaint_text": text}
        current = tracker.get_slot("complaint_text")
        answers_requested = {
            "village": answer_village(text),
            "anonymity": answer_anonymity(text, intent),
            "phone": answer_phone(text, channel_phone(tracker)),
        }.get(requested or "")
        adds_to_it = intent in ("report_problem", "give_details") and han_count(text) >= 8
        if current and not answers_requested and adds_to_it and text not in current:
            return {"complaint_text": f"{current}。{text}"}
        return {}

    async def validate_complaint_text(self, value, dispatcher, tracker, domain):
        if not value:
            return {"complaint_text": None}
        if tracker.get_slot("category") == "OUT":
            return {"complaint_text": value}
        return {"complaint_text": value, **_slot_dict(await out_of_list_defaults(value, tracker))}

    async def extract_village(self, dispatcher, tracker, domain) -> dict[str, Any]:
        text, intent = text_of(tracker), intent_of(tracker)
        if intent in INTERRUPTIONS:
            return {}
        if tracker.get_slot("requested_slot") == "village":
            village = answer_village(text) if intent != "report_problem" else find_village(text)
            return {"village": village} if village else {}
        if tracker.get_slot("village") is None and (village := find_village(text)):
            return {"village": village}
        return {}

    async def extract_anonymity(self, dispatcher, tracker, domain) -> dict[str, Any]:
        text, intent = text_of(tracker), intent_of(tracker)
        if intent in INTERRUPTIONS:
            return {}
        requested = tracker.get_slot("requested_slot") == "anonymity"
        value = answer_anonymity(text, intent if requested else None)
        return {"anonymity": value} if value else {}

    async def extract_phone(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_phone(dispatcher, tracker)


def _slot_dict(events: list[EventType]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def _extract_phone(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    text, intent = text_of(tracker), intent_of(tracker)
    if intent in INTERRUPTIONS - {"nlu_fallback"}:
        return {}
    if tracker.get_slot("requested_slot") == "phone":
        value = answer_phone(text, channel_phone(tracker))
        if value is None and sum(ch.isdigit() for ch in text) >= 5:
            dispatcher.utter_message(text="这个电话号码好像不完整，请再说一遍，手机是11位数字。")
        return {"phone": value} if value else {}
    phone = find_phone(text)
    return {"phone": phone} if phone and tracker.get_slot("phone") is None else {}


class ActionReadBack(Action):
    """Read the complaint back before filing; a matter outside the list is filed at once."""

    def name(self) -> str:
        return "action_read_back"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        text = tracker.get_slot("complaint_text") or ""
        code = tracker.get_slot("resident_category") or tracker.get_slot("category")
        if code is None:
            try:
                code = (await case_api.classify(text)).get("category")
            except case_api.ServiceUnavailable:
                code = None
        if code == "OUT":
            return await file_complaint(dispatcher, tracker, out_of_list=True)
        dispatcher.utter_message(
            text=read_back(
                text,
                item_name(code),
                tracker.get_slot("village") or "",
                tracker.get_slot("anonymity") or "anonymous",
                phone_or_none(tracker.get_slot("phone")),
            )
        )
        return [SlotSet("category", code), SlotSet("awaiting", "confirm")]


async def file_complaint(
    dispatcher: CollectingDispatcher, tracker: Tracker, out_of_list: bool = False
) -> list[EventType]:
    text = tracker.get_slot("complaint_text") or ""
    phone = phone_or_none(tracker.get_slot("phone"))
    village = tracker.get_slot("village")
    key = hashlib.sha256(f"{tracker.sender_id}\n{text}".encode()).hexdigest()[:40]
    payload: dict[str, Any] = {
        "text": text,
        "channel": channel_of(tracker),
        "phone": phone,
        "anonymous": tracker.get_slot("anonymity") != "named",
        "village": village if village and village != "未说明" else None,
        "idempotency_key": f"bot-{key}",
    }
    if tracker.get_slot("resident_category"):
        payload["resident_category"] = tracker.get_slot("resident_category")
    try:
        reply = await case_api.file_complaint(payload)
    except case_api.ServiceUnavailable:
        dispatcher.utter_message(text=SORRY_BUSY)
        return [SlotSet("awaiting", "confirm")]
    if reply.status not in (200, 201):
        dispatcher.utter_message(
            text="这次登记没有成功："
            + str(reply.body.get("detail", "内容有误"))
            + "。可以说“转人工”。"
        )
        return reset_complaint()
    body = reply.body
    if out_of_list:
        dispatcher.utter_message(
            text="您说的这件事不归村级小微权力监督管，建议这样办："
            + _referral(text)
            + "我们也记下了，"
            f"登记号是{' '.join(body['number'])}。"
        )
    else:
        dispatcher.utter_message(
            text=receipt(
                body["number"],
                body.get("joined_case"),
                plain_date(body.get("due_date")),
                bool(phone),
            )
        )
    dispatcher.utter_message(text="还有别的事吗？没有的话说“再见”就行。")
    return [*reset_complaint(), SlotSet("filed_number", body.get("joined_case") or body["number"])]


def _referral(text: str) -> str:
    policy = load_policies().get("OUT")
    return policy.apply if policy else "可以拨打12345政务服务热线；遇到违法犯罪或紧急情况请打110。"


class ActionAffirm(Action):
    def name(self) -> str:
        return "action_affirm"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        awaiting = tracker.get_slot("awaiting")
        if awaiting == "confirm" and tracker.get_slot("complaint_text"):
            return await file_complaint(dispatcher, tracker)
        if awaiting == "handoff_offer":
            return [SlotSet("awaiting", None), *start_handoff(tracker, "居民同意转人工")]
        if awaiting == "resume":
            dispatcher.utter_message(text="好，我们接着登记。")
            return [SlotSet("awaiting", None), FollowupAction("complaint_form")]
        dispatcher.utter_message(response="utter_ok")
        return [SlotSet("awaiting", None)]


class ActionDeny(Action):
    def name(self) -> str:
        return "action_deny"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        awaiting = tracker.get_slot("awaiting")
        if awaiting in ("confirm", "correction"):
            dispatcher.utter_message(
                text="哪里不对？请直接说对的，比如“是五保的事”“是王庄村”，或者补充事情经过。"
            )
            return [SlotSet("awaiting", "correction")]
        if awaiting == "resume":
            dispatcher.utter_message(text="好的，上次的内容就不登记了。还有什么需要帮忙的吗？")
            return reset_complaint()
        dispatcher.utter_message(response="utter_ok")
        return [SlotSet("awaiting", None)]


class ActionStartStatus(Action):
    def name(self) -> str:
        return "action_start_status"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        text = text_of(tracker)
        number, near_miss = find_case_number(text)
        if near_miss:
            dispatcher.utter_message(text="这个案件号好像不对，请再核对一下。")
        number = number or tracker.get_slot("filed_number")
        phone = find_phone(text) or tracker.get_slot("phone") or channel_phone(tracker)
        return [SlotSet("case_number", number), SlotSet("phone", phone)]


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

    async def extract_case_number(self, dispatcher, tracker, domain) -> dict[str, Any]:
        if intent_of(tracker) in INTERRUPTIONS - {"nlu_fallback"}:
            return {}
        number, near_miss = find_case_number(text_of(tracker))
        if near_miss and tracker.get_slot("requested_slot") == "case_number":
            dispatcher.utter_message(text="这个案件号好像不对，案件号是8位数字，请再说一遍。")
        return {"case_number": number} if number else {}

    async def extract_phone(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_phone(dispatcher, tracker)


class ActionCaseStatus(Action):
    def name(self) -> str:
        return "action_case_status"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        number = tracker.get_slot("case_number")
        phone = phone_or_none(tracker.get_slot("phone"))
        if not number or not phone:
            dispatcher.utter_message(
                text="查进度需要案件号和当时留的电话。没有留电话的，可以说“转人工”。"
            )
            return [SlotSet("case_number", None)]
        try:
            reply = await case_api.case_status(number, phone)
        except case_api.ServiceUnavailable:
            dispatcher.utter_message(text="系统暂时查不了，请过一会儿再问。")
            return []
        if reply.status == 200:
            dispatcher.utter_message(text=reply.body["summary"])
            dispatcher.utter_message(text="还有别的事吗？")
            return [SlotSet("case_number", None), SlotSet("failed_lookups", 0)]
        failed = (tracker.get_slot("failed_lookups") or 0) + 1
        events: list[EventType] = [SlotSet("case_number", None), SlotSet("failed_lookups", failed)]
        if not channel_phone(tracker):
            events.append(SlotSet("phone", None))
        if failed >= 2:
            dispatcher.utter_message(
                text="还是没有查到。案件号或电话可能记错了，要不要帮您转给工作人员？"
            )
            return [*events, SlotSet("awaiting", "handoff_offer")]
        dispatcher.utter_message(
            text="没有查到这个案件号和电话对应的案件。请核对后再说一次，也可以说“转人工”。"
        )
        return events


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        text = text_of(tracker)
        policies = load_policies()
        # Only an item the resident named (or its usual words): a guess would risk answering
        # about the wrong policy, and a wrong answer is worse than a person.
        policy = policies.get(item_named_in(text, policies) or "")
        if policy is None:
            dispatcher.utter_message(text="这个问题我答不上来，不敢乱说。要不要帮您转给工作人员？")
            return [SlotSet("awaiting", "handoff_offer")]
        dispatcher.utter_message(text=answer(policy))
        if not tracker.active_loop_name:
            dispatcher.utter_message(text="还有别的问题吗？")
        return []


class ActionStartRating(Action):
    """满意/基本满意/不满意 for a finished case (the SMS after 已办结 asks for it)."""

    def name(self) -> str:
        return "action_start_rating"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        text = text_of(tracker)
        number, near_miss = find_case_number(text)
        if near_miss:
            dispatcher.utter_message(text="这个案件号好像不对，请再核对一下。")
        return [
            SlotSet("rating", rating_in(text) or "满意"),
            SlotSet("case_number", number or tracker.get_slot("filed_number")),
            SlotSet("phone", tracker.get_slot("phone") or channel_phone(tracker)),
        ]


class ValidateRatingForm(ValidateStatusForm):
    def name(self) -> str:
        return "validate_rating_form"


class ActionRateCase(Action):
    def name(self) -> str:
        return "action_rate_case"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        number = tracker.get_slot("case_number")
        phone = phone_or_none(tracker.get_slot("phone"))
        rating = tracker.get_slot("rating") or "满意"
        events: list[EventType] = [SlotSet("case_number", None), SlotSet("rating", None)]
        if not number or not phone:
            dispatcher.utter_message(text="评价需要案件号和当时留的电话。")
            return events
        try:
            reply = await case_api.rate_case(number, phone, rating)
        except case_api.ServiceUnavailable:
            dispatcher.utter_message(text="系统暂时记不上评价，请过一会儿再发。")
            return events
        if reply.status == 200:
            said = f"谢谢您的评价：{rating}。"
            if rating == "不满意":
                said += "这个案件会重新办理，办理单位会再联系您。"
            dispatcher.utter_message(text=said)
        elif reply.status == 404:
            dispatcher.utter_message(text="没有查到这个案件号和电话对应的案件，请核对后再发。")
        else:
            dispatcher.utter_message(text=str(reply.body.get("detail", "现在还不能评价这个案件。")))
        return events


def start_handoff(tracker: Tracker, reason: str) -> list[EventType]:
    return [SlotSet("handoff_reason", reason), FollowupAction("handoff_form")]


class ActionStartHandoff(Action):
    def name(self) -> str:
        return "action_start_handoff"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        events: list[EventType] = [SlotSet("handoff_reason", "居民要求转人工")]
        if tracker.active_loop_name:
            events.append(ActiveLoop(None))
        if not tracker.get_slot("phone") and (phone := channel_phone(tracker)):
            events.append(SlotSet("phone", phone))
        return events


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handoff_form"

    async def extract_phone(self, dispatcher, tracker, domain) -> dict[str, Any]:
        return _extract_phone(dispatcher, tracker)


class ActionHandoff(Action):
    """Hand the resident to a person: the request and what they said go into their case (or a
    new one), and staff call back."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        phone = phone_or_none(tracker.get_slot("phone"))
        if phone is None:
            dispatcher.utter_message(
                text="没有电话，工作人员没法回电。您可以工作时间直接到乡镇纪委反映，或者留个电话再说“转人工”。"
            )
            return [SlotSet("phone", None), SlotSet("awaiting", None)]
        said = user_said(tracker)
        draft = tracker.get_slot("complaint_text")
        if draft and draft not in said:
            said.insert(0, draft)
        payload = {
            "conversation_id": tracker.sender_id[:100],
            "channel": channel_of(tracker),
            "phone": phone,
            "case_number": tracker.get_slot("filed_number"),
            "reason": tracker.get_slot("handoff_reason") or "居民要求转人工",
            "transcript": said,
        }
        try:
            reply = await case_api.request_person(payload)
        except case_api.ServiceUnavailable:
            dispatcher.utter_message(text="现在转不过去，请过一会儿再试，或者工作时间再打来。")
            return [SlotSet("awaiting", None)]
        if reply.status not in (200, 201):
            dispatcher.utter_message(text="转人工没有成功，请工作时间再打来。")
            return [SlotSet("awaiting", None)]
        dispatcher.utter_message(
            text=f"已经帮您转给工作人员，登记号{' '.join(reply.body['number'])}。"
            f"工作人员会在工作时间打{' '.join(phone)}给您。"
        )
        dispatcher.utter_message(json_message={"handoff": True})  # phone: put a person on
        return [*reset_complaint(), SlotSet("misunderstood", 0), SlotSet("handoff_reason", None)]


class ActionGoodbye(Action):
    def name(self) -> str:
        return "action_goodbye"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        events: list[EventType] = [SlotSet("awaiting", None), SlotSet("misunderstood", 0)]
        if tracker.active_loop_name or tracker.get_slot("awaiting") == "confirm":
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
            if tracker.get_slot("complaint_text"):
                dispatcher.utter_message(
                    text="好的，这次先不登记。您说的内容先留着，下次来说“你好”可以接着登记。"
                )
        dispatcher.utter_message(text="谢谢您的反映，再见。")
        dispatcher.utter_message(json_message={"end_call": True})  # phone channels hang up
        return events


class ActionMisunderstood(Action):
    """Say what the bot can do; after two misunderstandings in a row, bring in a person."""

    def name(self) -> str:
        return "action_misunderstood"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        count = (tracker.get_slot("misunderstood") or 0) + 1
        if count >= 2:
            dispatcher.utter_message(text="不好意思，我还是没听明白。我帮您转给工作人员。")
            events: list[EventType] = [SlotSet("misunderstood", 0)]
            if tracker.active_loop_name:
                events.append(ActiveLoop(None))
            if not tracker.get_slot("phone") and (phone := channel_phone(tracker)):
                events.append(SlotSet("phone", phone))
            return [*events, *start_handoff(tracker, "机器人两次没听懂")]
        dispatcher.utter_message(
            text="不好意思，我没听明白。您可以说：反映问题、查询进度、政策咨询，或者转人工。"
        )
        return [SlotSet("misunderstood", count)]


class ActionDefaultFallback(ActionMisunderstood):
    def name(self) -> str:
        return "action_default_fallback"
