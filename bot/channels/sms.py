"""Text messages: the same bot, with numbered replies instead of buttons, replies packed into
as few 70-character Chinese SMS as possible (broken between clauses or words), answers longer
than two segments cut with "回复1看全文", and shortcuts such as "查询 12345678".

The case number once per filing: when a message files a complaint, the case service texts the
receipt with the case number (``api/outbox.py``, tracked for delivery and resendable), so the
bot's reply to that message leaves the number out and keeps the rest: the record of what was
stored, which the resident may correct, and where a matter outside the list belongs."""

from __future__ import annotations

import logging
import re
import time

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import keypad, twiml
from bot.channels.twilio_base import TwilioChannel, caller_id

logger = logging.getLogger(__name__)

MENU = "回复1反映问题，2查询进度，3政策咨询，0转人工。"
HINTS = {
    "yes_no": "回复1表示对，2表示不对。",
    "anonymity": "回复1匿名，2留名。",
}
POLICY_PROMPT = "请发您想问的政策，比如：低保怎么申请。"
NOTHING_MORE = "没有更多内容了。"
_MOBILE = re.compile(r"1[3-9]\d{9}")  # the numbers the case service texts (api.outbox.sms_number)


def _without_number(messages: list[dict], number: str | None) -> list[dict]:
    """The bot's messages but those that give the case number (the receipt text gives it)."""
    return [
        m
        for m in messages
        if not m.get("custom") and not (number and number in (m.get("text") or "").replace(" ", ""))
    ]


class Remainders:
    """The rest of each sender's last cut answer, for "1" to fetch: a small table in the tracker
    store's database, so every Rasa process sharing it sees the same rest (process memory only
    when the tracker store has no SQL engine, e.g. in-memory tests)."""

    TABLE = "hotline_sms_more"

    def __init__(self) -> None:
        self._created: set[int] = set()
        self._memory: dict[str, tuple[str | None, str | None, str | None]] = {}

    @staticmethod
    def _engine(request: Request):
        return TwilioChannel.store_engine(request)

    def _ready(self, engine) -> None:
        if id(engine) in self._created:
            return
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS {self.TABLE} (sender VARCHAR(100) PRIMARY KEY, "
                    "rest TEXT, last_sid VARCHAR(120), last_text TEXT, at FLOAT)"
                )
            )
        self._created.add(id(engine))

    def get(self, request: Request, sender: str) -> tuple[str | None, str | None, str | None]:
        """(rest, the message id "1" was last answered for, that answer)."""
        engine = self._engine(request)
        if engine is None:
            return self._memory.get(sender, (None, None, None))
        from sqlalchemy import text

        self._ready(engine)
        with engine.connect() as conn:
            row = conn.execute(
                text(f"SELECT rest, last_sid, last_text FROM {self.TABLE} WHERE sender = :s"),
                {"s": sender},
            ).first()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def put(
        self,
        request: Request,
        sender: str,
        rest: str | None,
        last_sid: str | None = None,
        last_text: str | None = None,
    ) -> None:
        engine = self._engine(request)
        if engine is None:
            self._memory[sender] = (rest, last_sid, last_text)
            return
        from sqlalchemy import text

        self._ready(engine)
        with engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {self.TABLE} WHERE sender = :s"), {"s": sender})
            if rest or last_sid:
                conn.execute(
                    text(
                        f"INSERT INTO {self.TABLE} (sender, rest, last_sid, last_text, at) "
                        "VALUES (:s, :r, :sid, :t, :at)"
                    ),
                    {"s": sender, "r": rest, "sid": last_sid, "t": last_text, "at": time.time()},
                )


class HotlineSmsInput(TwilioChannel):
    remainders = Remainders()

    @classmethod
    def name(cls) -> str:
        return "hotline_sms"

    def hint(self, slots: dict) -> str | None:
        """The numbered replies for the question now open."""
        context = keypad.context_of(slots)
        if context == "village":
            listed = keypad.villages_of(slots)
            return "回复" + "，".join(f"{i}{name}" for i, name in enumerate(listed, 1)) + "。"
        return HINTS.get(context)

    def compose(self, messages: list[dict], slots: dict) -> str:
        """The whole answer as one text: the bot's words, the numbered replies for the open
        question, the menu only when the bot said nothing."""
        texts = self.texts(messages)
        hint = self.hint(slots)
        if hint:
            texts.append(hint)
        elif not texts:
            texts.append(MENU)
        return twiml.sms_text(texts)

    def send(self, request: Request, sender: str, text: str) -> HTTPResponse:
        """Send what fits two segments; keep the rest for "1"."""
        shown, rest = twiml.sms_fit(text)
        self.remainders.put(request, sender, rest)
        return self.xml_reply(self.provider.messages([shown]))

    @staticmethod
    def filed_now(before: dict, after: dict, messages: list[dict]) -> str | None:
        """The case number when this message filed a complaint (the bot's ``filed`` signal, or
        the ``filed_number`` slot newly set)."""
        for message in messages:
            custom = message.get("custom")
            if isinstance(custom, dict) and custom.get("filed"):
                return str(custom["filed"])
            if isinstance(custom, dict) and custom.get("handoff"):
                # A request for a person: no receipt is texted, so the reply keeps its number
                # and who will call back (stripped, the resident got an empty reply).
                return None
        number = after.get("filed_number")
        if number and number != before.get("filed_number"):
            return str(number)
        return None

    async def filed_by(self, request: Request, sender: str, message_id: str) -> bool:
        """Whether the bot filed a case while answering this message (for a resent webhook)."""
        from rasa.shared.core.events import SlotSet, UserUttered

        tracker = await self.tracker(request, sender)
        found = False
        for event in tracker.events if tracker else []:
            if isinstance(event, UserUttered):
                if found:
                    return False
                found = event.message_id == message_id
            elif (
                found and isinstance(event, SlotSet) and event.key == "filed_number" and event.value
            ):
                return True
        return False

    async def more(self, request: Request, sender: str, message_id: str) -> HTTPResponse | None:
        """ "1" after a cut answer: the next part (the same part again for a resent webhook)."""
        rest, last_sid, last_text = self.remainders.get(request, sender)
        if last_sid == message_id and last_text:
            return self.xml_reply(self.provider.messages([last_text]))
        if not rest:
            return None
        shown, left = twiml.sms_fit(rest)
        self.remainders.put(request, sender, left, message_id, shown)
        return self.xml_reply(self.provider.messages([shown]))

    async def handle(self, request: Request, on_new_message) -> HTTPResponse:
        text_in = self.provider.inbound(self.form(request))
        phone = caller_id(text_in.caller)
        body = text_in.body
        message_sid = text_in.message_id or ""
        if phone is None or not message_sid:
            return response.text("缺少号码或短信编号", status=400)
        delivery = f"sms-{message_sid}"[:100]
        earlier = await self.earlier_reply(request, phone, delivery)
        if earlier is not None:  # a resent webhook: the same reply, nothing done twice
            slots = await self.slots(request, phone)
            if await self.filed_by(request, phone, delivery) and _MOBILE.fullmatch(phone):
                earlier = _without_number(earlier, slots.get("filed_number"))
                if not self.texts(earlier):
                    return self.xml_reply(self.provider.messages([]))
            return self.send(request, phone, self.compose(earlier, slots))
        if body == "1":
            answer = await self.more(request, phone, message_sid)
            if answer is not None:
                return answer
        slots = await self.slots(request, phone)
        text = body
        if body and len(body) == 1 and (body.isdigit() or body == "*"):
            action = keypad.interpret(body, slots)
            if action.step == "policy":
                return self.send(request, phone, POLICY_PROMPT)
            if action.step == "repeat":
                said = await self.last_said(request, phone)
                return self.send(request, phone, self.compose([{"text": t} for t in said], slots))
            if action.step == "menu":
                return self.send(request, phone, MENU)
            text = action.text or body
        if not text:
            return self.send(request, phone, MENU)
        messages = await self.ask_bot(on_new_message, phone, text, delivery, phone, request)
        after = await self.slots(request, phone)
        filed = self.filed_now(slots, after, messages)
        if filed and _MOBILE.fullmatch(phone):
            # The case service texts the receipt with the case number; the bot's reply keeps
            # the rest (what was stored, to correct; where a matter outside the list belongs).
            rest = _without_number(messages, filed)
            if not self.texts(rest):
                self.remainders.put(request, phone, None)
                return self.xml_reply(self.provider.messages([]))
            return self.send(request, phone, self.compose(rest, after))
        return self.send(request, phone, self.compose(messages, after))
