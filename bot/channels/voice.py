"""Phone calls through Twilio, in Mandarin, with speech and the keypad.

Rasa's own `twilio_voice` channel sets no language (Twilio then assumes English), has no
Mandarin voice, ignores the keypad and checks no signature. This one listens with
``<Gather input="speech dtmf" language="cmn-Hans-CN">``, speaks slowly in short sentences,
offers the keypad after a silence, then a person or a voicemail, reads case numbers twice, and
ends every call with a goodbye and a hang-up."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import httpx
import yaml
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import keypad, twiml
from bot.channels.twilio_base import TwilioChannel, caller_id

logger = logging.getLogger(__name__)

WELCOME = "您好，这里是小微权力监督热线。请直接说您要办的事，说完稍等一下。"
NOT_HEARD = "没有听到您说话。您可以直接说，也可以按键。"
STILL_NOT_HEARD = "还是没有听到。转人工请按0，留言请按9，重听请按星号。"
VOICEMAIL = "请在嘀的一声后留言。说您要反映的事和您的村。说完按井号键，或者挂机。"
POLICY_PROMPT = "请说您想问哪项政策。比如：低保怎么申请。"
VOICEMAIL_TAKEN = "留言已经收到。登记号是{number}。工作人员会听您的留言，尽快回电。"
VOICEMAIL_FAILED = "留言已经录好了。系统暂时登记不上，工作人员会根据来电回电。"
NO_SUCH_KEY = "没有这个按键。"
TELL_NOW = "您也可以现在就说是什么事。说完挂机就行。"
TAXONOMY = Path(__file__).resolve().parents[2] / "nlu_data" / "taxonomy.yml"


def speech_hints() -> str:
    """Item names help the recogniser with words it would otherwise mishear (低保, 五保…)."""
    items = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))["items"]
    words = ["低保", "五保", "高龄津贴", "宅基地", "一事一议", "转人工", "查询进度"]
    words += [item["name"] for item in items if item["code"] != "OUT"]
    return ",".join(dict.fromkeys(words))


class HotlineVoiceInput(TwilioChannel):
    @classmethod
    def name(cls) -> str:
        return "hotline_voice"

    def __init__(self, auth_token: str | None, public_url: str | None, provider=None) -> None:
        super().__init__(auth_token, public_url, provider)
        self.internal_token = os.environ.get("HOTLINE_INTERNAL_TOKEN") or None
        self.operator = os.environ.get("HOTLINE_OPERATOR_NUMBER") or None
        self.api_url = os.environ.get("HOTLINE_API_URL", "http://127.0.0.1:8000")
        self.hints = speech_hints()

    def url(self, **params: Any) -> str:
        return twiml.action_url(f"/webhooks/{self.name()}/webhook", **params)

    def listen(self, texts: list[str], slots: dict, turn: int, silence: int = 0) -> HTTPResponse:
        """Say the texts and listen; the next webhook comes back with the turn's number, so a
        webhook Twilio resends (same call, same turn) is recognised as a resend."""
        hint = keypad.key_hint(slots)
        body = self.provider.listen(
            [*texts, hint] if hint else texts,
            action=self.url(step="gather", turn=turn + 1, silence=silence),
            hints=self.hints,
            num_digits=keypad.digits_expected(slots),
        )
        return self.xml_reply(body)

    def answer(self, messages: list[dict], slots: dict, turn: int) -> HTTPResponse:
        """The bot's reply as TwiML: keep listening, or end the call (goodbye, person)."""
        flags = self.flags(messages)
        texts = self.texts(messages) or ["好的。"]
        if flags.get("end_call"):
            return self.xml_reply(self.provider.final(texts))
        if flags.get("handoff"):
            if self.operator is None and slots.get("handoff_open"):
                # Called back later and nothing told yet: what the caller says now goes into
                # the same case, so the person who calls back knows what about.
                return self.listen([*texts, TELL_NOW], slots, turn)
            return self.xml_reply(self.provider.final(texts, dial=self.operator))
        return self.listen(texts, slots, turn)

    async def handle(self, request: Request, on_new_message) -> HTTPResponse:
        call = self.provider.inbound(self.form(request))
        phone = caller_id(call.caller)
        if phone is None:
            return response.text("缺少来电号码", status=400)
        step = request.args.get("step", "start")
        turn = int(request.args.get("turn", "0") or 0)
        if step == "voicemail":
            return await self.voicemail(call, phone)
        if step == "status":
            return await self.call_status(request, call, phone, on_new_message)
        if step == "start":
            slots = await self.slots(request, phone)
            return self.listen([WELCOME, keypad.MENU], {**slots, "requested_slot": None}, turn)
        silence = int(request.args.get("silence", "0") or 0)
        speech, digits = call.speech, call.digits
        delivery = self.delivery_id(request, call.call_id, str(turn))
        earlier = await self.earlier_reply(request, phone, delivery)
        if earlier is not None:  # Twilio resent this webhook: same answer, no second turn
            return self.answer(earlier, await self.slots(request, phone), turn)
        if not speech and not digits:
            return await self.silence(request, phone, turn, silence + 1)
        text = speech
        if digits and not speech:
            action = keypad.interpret(digits, await self.slots(request, phone))
            if action.step == "repeat":
                return await self.repeat(request, phone, turn)
            if action.step == "voicemail":
                return self.record(turn)
            if action.step == "policy":
                return self.listen([POLICY_PROMPT], {"requested_slot": "complaint_text"}, turn)
            if action.step == "menu":
                return self.listen([NO_SUCH_KEY, keypad.MENU], {"requested_slot": None}, turn)
            text = action.text or digits
        messages = await self.ask_bot(on_new_message, phone, text, delivery, phone, request)
        return self.answer(messages, await self.slots(request, phone), turn)

    async def call_status(self, request: Request, call, phone: str, on_new_message) -> HTTPResponse:
        """The provider's status callback. A caller who hangs up while a complaint is being taken
        loses nothing: the bot files what was said (not read back, 匿名 unless 留名 was chosen)
        and the case service texts the case number. A resent callback files nothing twice."""
        if call.status == "completed":
            slots = await self.slots(request, phone)
            if slots.get("task") == "file" and slots.get("complaint_text"):
                delivery = self.delivery_id(request, call.call_id, "ended")
                if await self.earlier_reply(request, phone, delivery) is None:
                    await self.ask_bot(
                        on_new_message, phone, "/goodbye", delivery, phone, request, call_ended=True
                    )
        return response.empty()

    async def silence(self, request: Request, phone: str, turn: int, count: int) -> HTTPResponse:
        """First silence: say it again and offer the keypad; second: a person or a voicemail;
        third: take a voicemail."""
        slots = await self.slots(request, phone)
        if count >= 3:
            return self.record(turn)
        if count == 2:
            return self.listen([STILL_NOT_HEARD], {"requested_slot": None}, turn, silence=count)
        last = await self.last_said(request, phone)
        return self.listen([NOT_HEARD, *(last or [keypad.MENU])], slots, turn, silence=count)

    async def repeat(self, request: Request, phone: str, turn: int) -> HTTPResponse:
        slots = await self.slots(request, phone)
        said = await self.last_said(request, phone) or [WELCOME, keypad.MENU]
        return self.listen(said, slots, turn)

    def record(self, turn: int) -> HTTPResponse:
        body = self.provider.record(VOICEMAIL, action=self.url(step="voicemail", turn=turn + 1))
        return self.xml_reply(body)

    async def voicemail(self, call, phone: str) -> HTTPResponse:
        """A voicemail becomes a case in the 待听录音 queue holding the recording and its length:
        no item and no deadline until a person has listened and typed what was said. Keyed by
        the call, so the provider's retries file it once."""
        if not call.recording_url:
            return self.xml_reply(self.provider.final(["没有录到留言。"]))
        payload = {
            "phone": phone,
            "audio_url": call.recording_url,
            "duration_seconds": call.recording_seconds,
            "call_id": call.call_id,
        }
        headers = {"X-Hotline-Internal-Token": self.internal_token} if self.internal_token else {}
        try:
            async with httpx.AsyncClient(base_url=self.api_url, timeout=5) as client:
                r = await client.post("/api/v1/voicemails", json=payload, headers=headers)
            number = r.json()["number"] if r.status_code in (200, 201) else None
        except (httpx.HTTPError, ValueError, KeyError):
            number = None
        if number is None:
            logger.error("voicemail %s from %s not filed", call.recording_url, phone)
            said = VOICEMAIL_FAILED
        else:
            said = VOICEMAIL_TAKEN.format(number=number)
        return self.xml_reply(self.provider.final([said]))
