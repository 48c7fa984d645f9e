"""The scenarios over the phone line: signed SMS and voice webhooks, as Twilio sends them.

A resident on a phone is known by their number (the channels use it as the conversation id), so
each scenario calls from its own phone: the setup case's, or the one the resident would give,
or a fresh one. The conversation is restarted first, so an earlier run leaves nothing behind.
Requests are signed with twilio's own ``RequestValidator`` and the token the stack accepts
(``TWILIO_AUTH_TOKEN`` or the local one `hotline up` writes)."""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from typing import Any

import httpx

from bot.channels.twiml import SAY_MAX
from common.digits import find_phone, to_digits
from hotline.phone_commands import HOTLINE_NUMBER, SMS_PATH, VOICE_PATH, signing_token
from tests.conversations.simulator import (
    BotMessage,
    ChannelAdapter,
    Scenario,
    StackEndpoints,
    register_channel,
)


class PhoneChannel(ChannelAdapter):
    """What SMS and voice share: a caller number per scenario, a restart, signed posts."""

    def __init__(self, stack: StackEndpoints) -> None:
        super().__init__(stack)
        from twilio.request_validator import RequestValidator

        self.validator = RequestValidator(signing_token())

    def line_of(self, scenario: Scenario) -> str | None:
        said = to_digits(scenario.knows.get("phone", ""))
        # "135 0552 后面7193": the number the caller reads out, in pieces, is their own.
        pieces = "".join(ch for ch in said if ch.isdigit())
        phone = scenario.setup_phone or find_phone(said) or (find_phone(pieces) and pieces)
        return phone if phone and phone.startswith("1") else None

    def new_conversation(self, scenario: Scenario, run_id: str) -> str:
        phone = self.line_of(scenario)
        phone = phone or "13" + "".join(secrets.choice("0123456789") for _ in range(9))
        self._restart(phone)
        return phone

    def _restart(self, conversation: str) -> None:
        params = {"token": self.stack.rasa_token} if self.stack.rasa_token else {}
        httpx.post(
            f"{self.stack.rasa_url}/conversations/{conversation}/tracker/events",
            params=params,
            json=[{"event": "restart"}],
            timeout=30,
        ).raise_for_status()

    def adjust(self, expect: dict[str, Any]) -> dict[str, Any]:
        """A phone channel always knows the caller's number: "不留" cannot hold there."""
        case = expect.get("case")
        if isinstance(case, dict) and case.get("phone", "") is None:
            case = {k: v for k, v in case.items() if k != "phone"}
            return {**expect, "case": case}
        return expect

    def post(self, client: httpx.Client, path: str, form: dict[str, str]) -> httpx.Response:
        url = path if path.startswith("http") else self.stack.rasa_url.rstrip("/") + path
        signature = self.validator.compute_signature(url, form)
        r = client.post(url, data=form, headers={"X-Twilio-Signature": signature})
        r.raise_for_status()
        return r


class SmsChannel(PhoneChannel):
    name = "sms"

    def send(self, client: httpx.Client, conversation: str, text: str) -> list[BotMessage]:
        form = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "From": "+86" + conversation,
            "To": HOTLINE_NUMBER,
            "Body": text,
            "NumSegments": "1",
        }
        root = ET.fromstring(self.post(client, SMS_PATH, form).text)
        texts = ["".join(m.itertext()).strip() for m in root.iter("Message")]
        return [BotMessage(t) for t in texts if t]


class VoiceChannel(PhoneChannel):
    """One call per scenario: the first message starts the call, each message answers the
    open <Gather> as speech (a run of digits as keys ending with #)."""

    name = "voice"

    def __init__(self, stack: StackEndpoints) -> None:
        super().__init__(stack)
        self.calls: dict[str, tuple[str, str]] = {}  # conversation -> (CallSid, next action)

    def send(self, client: httpx.Client, conversation: str, text: str) -> list[BotMessage]:
        said: list[BotMessage] = []
        if conversation not in self.calls:
            call = "CA" + secrets.token_hex(16)
            self.calls[conversation] = (call, VOICE_PATH)
            said += self._turn(client, conversation, {})  # the greeting, before speaking
        compact = text.replace(" ", "")
        form = (
            {"Digits": compact.rstrip("#")}
            if compact and set(compact) <= set("0123456789#*")
            else {"SpeechResult": text, "Confidence": "0.9"}
        )
        return said + self._turn(client, conversation, form)

    def _turn(self, client: httpx.Client, conversation: str, form: dict[str, str]) -> list:
        call, action = self.calls[conversation]
        base = {
            "CallSid": call,
            "From": "+86" + conversation,
            "To": HOTLINE_NUMBER,
            "CallStatus": "in-progress",
        }
        root = ET.fromstring(self.post(client, action, {**base, **form}).text)
        says = ["".join(s.itertext()).strip() for s in root.iter("Say")]
        for line in says:  # as an elderly caller hears it: short, numbers one digit at a time
            if len(line) > SAY_MAX or re.search(r"\d{3,}", line):
                raise RuntimeError(f"<Say> too long or digits read as a number: {line}")
        gather = next(root.iter("Gather"), None)
        self.calls[conversation] = (
            call,
            gather.get("action") if gather is not None else VOICE_PATH,
        )
        # Numbers are spoken digit by digit (幺三九…); the digits are added for the checks.
        return [BotMessage(f"{s} {to_digits(s)}" if to_digits(s) != s else s) for s in says if s]


register_channel("sms", SmsChannel)
register_channel("voice", VoiceChannel)
