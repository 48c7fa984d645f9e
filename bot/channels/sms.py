"""Text messages through Twilio: the same bot, with numbered choices instead of buttons, replies
packed into as few 70-character Chinese SMS as possible, and shortcuts such as "查询 12345678"."""

from __future__ import annotations

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import keypad, twiml
from bot.channels.twilio_base import TwilioChannel, caller_id

MENU = "回复1反映问题，2查询进度，3政策咨询，0转人工。"
HINTS = {
    "yes_no": "回复1表示对，2表示不对。",
    "anonymity": "回复1匿名，2留名。",
}
POLICY_PROMPT = "请发您想问的政策，比如：低保怎么申请。"


class HotlineSmsInput(TwilioChannel):
    @classmethod
    def name(cls) -> str:
        return "hotline_sms"

    def reply(self, messages: list[dict], slots: dict, first: bool = False) -> HTTPResponse:
        texts = self.texts(messages)
        context = keypad.context_of(slots)
        if context in HINTS:
            texts.append(HINTS[context])
        elif first or (context == "menu" and not texts):
            texts.append(MENU)
        return self.xml_reply(twiml.sms_reply(texts or [MENU]))

    async def handle(self, request: Request, on_new_message) -> HTTPResponse:
        phone = caller_id(request.form.get("From"))
        body = (request.form.get("Body") or "").strip()
        message_sid = request.form.get("MessageSid") or ""
        if phone is None or not message_sid:
            return response.text("缺少号码或短信编号", status=400)
        delivery = f"sms-{message_sid}"[:100]
        earlier = await self.earlier_reply(request, phone, delivery)
        if earlier is not None:  # a resent webhook: the same reply, nothing done twice
            return self.reply(earlier, await self.slots(request, phone))
        slots = await self.slots(request, phone)
        text = body
        if body and (body.isdigit() or body == "*") and len(body) == 1:
            action = keypad.interpret(body, slots)
            if action.step == "policy":
                return self.xml_reply(twiml.sms_reply([POLICY_PROMPT]))
            text = action.text or body
        if not text:
            return self.xml_reply(twiml.sms_reply([MENU]))
        first = not slots.get("filed_number") and not any(
            slots.get(k) for k in ("complaint_text", "requested_slot", "awaiting")
        )
        messages = await self.ask_bot(on_new_message, phone, text, delivery, phone)
        greeted = any("您好" in t for t in self.texts(messages))
        return self.reply(messages, await self.slots(request, phone), first=greeted or first)
