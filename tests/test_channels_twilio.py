"""Phone calls and SMS through the project's Twilio channels, against the real Rasa server,
action server and case service. Requests are signed exactly as Twilio signs them, with
twilio's own RequestValidator; every TwiML reply must parse and use only Twilio's verbs."""

from __future__ import annotations

import itertools
import re
import secrets
import xml.etree.ElementTree as ET

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.channels.twiml import TWILIO_ELEMENTS
from hotline.bot_commands import train_bot
from hotline.processes import service_env
from hotline.stack import Stack

AUTH_TOKEN = secrets.token_hex(16)
HOTLINE_NUMBER = "+8655112345678"


@pytest.fixture(scope="module")
def stack(model_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("phone-stack")
    running = Stack(
        home,
        service_env(home, model_path, None),
        train_bot(),
        rasa_extra_env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN},
    ).start()
    yield running
    running.stop()


def parse(reply: httpx.Response) -> ET.Element:
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(reply.text)
    assert root.tag == "Response"
    unknown = {el.tag for el in root.iter()} - TWILIO_ELEMENTS
    assert not unknown, unknown
    return root


def spoken(root: ET.Element) -> str:
    return "".join(el.text or "" for el in root.iter("prosody")) + "".join(
        el.text or "" for el in root.iter("Message")
    )


class Caller:
    """One phone: calls and texts, every request signed as Twilio signs it."""

    def __init__(self, stack: Stack, phone: str | None = None) -> None:
        self.stack = stack
        self.phone = phone or "139" + "".join(secrets.choice("0123456789") for _ in range(8))
        self.call_sid = "CA" + secrets.token_hex(16)
        self.next_url = "/webhooks/hotline_voice/webhook"

    def signed_post(self, path: str, params: dict, token: str = AUTH_TOKEN, **headers):
        url = self.stack.rasa_url + path
        signature = RequestValidator(token).compute_signature(url, params)
        return httpx.post(
            url, data=params, headers={"X-Twilio-Signature": signature, **headers}, timeout=60
        )

    def call(self, **params: str) -> ET.Element:
        """One webhook of the call: the first (no step) or the Gather/Record action."""
        form = {
            "CallSid": self.call_sid,
            "From": f"+86{self.phone}",
            "To": HOTLINE_NUMBER,
            "CallStatus": "in-progress",
            **params,
        }
        root = parse(self.signed_post(self.next_url, form))
        action = next(
            (el.get("action") for el in root.iter() if el.tag in ("Gather", "Record")), None
        )
        if action:
            self.next_url = action
        return root

    def say(self, speech: str) -> ET.Element:
        return self.call(SpeechResult=speech, Confidence="0.9")

    def press(self, digits: str) -> ET.Element:
        return self.call(Digits=digits)

    def text(self, body: str, sid: str | None = None) -> httpx.Response:
        form = {
            "MessageSid": sid or "SM" + secrets.token_hex(16),
            "From": f"+86{self.phone}",
            "To": HOTLINE_NUMBER,
            "Body": body,
        }
        return self.signed_post("/webhooks/hotline_sms/webhook", form)


def number_in(said: str) -> str:
    found = re.search(r"(?:案件号|登记号)[是为：:]*((?:\d ?){8})", said)
    assert found, said
    return found[1].replace(" ", "")


def test_call_greets_in_mandarin_with_speech_and_keypad(stack):
    root = Caller(stack).call()
    gather = root.find("Gather")
    assert gather.get("language") == "cmn-Hans-CN"
    assert gather.get("input") == "speech dtmf"
    assert "低保" in gather.get("hints")
    say = gather.find("Say")
    assert say.get("voice") == "Polly.Zhiyu" and say.get("language") == "cmn-CN"
    assert gather.find("Say/prosody").get("rate") == "85%"
    assert "按1" in spoken(root) and "按0" in spoken(root)


def test_filing_by_speech_and_keys(stack):
    caller = Caller(stack)
    caller.call()
    said = spoken(caller.say("我要反映我们村的低保问题 村主任把低保都给了他自家亲戚"))
    assert "哪个村" in said
    said = spoken(caller.say("李庄村"))
    assert "匿名请按1" in said
    said = spoken(caller.press("1"))  # 匿名; the phone is the caller's own number
    assert "最低生活保障" in said and "对请按1" in said
    root = caller.press("1")
    said = spoken(root)
    number = number_in(said)
    assert said.count(" ".join(number)) == 2  # read back digit by digit, twice
    r = httpx.post(f"{stack.api_url}/api/v1/status", json={"number": number, "phone": caller.phone})
    assert r.status_code == 200
    root = caller.say("没有了 再见")
    assert root.find("Hangup") is not None and "再见" in spoken(root)


def test_status_by_keypad(stack):
    filer = Caller(stack)
    filer.call()
    for speech in ("村里修路的钱拨下来了 路一直没修", "王庄村"):
        filer.say(speech)
    filer.press("1")
    number = number_in(spoken(filer.press("1")))

    again = Caller(stack, phone=filer.phone)  # calls again later: the bot knows the case
    again.call()
    assert "前办完" in spoken(again.press("2"))

    neighbour = Caller(stack)  # someone else keys in the number from another phone
    neighbour.call()
    said = spoken(neighbour.press("2"))
    assert "案件号" in said and "按键输入" in said
    assert "没有查到" in spoken(neighbour.press(number + "#"))


def test_silence_offers_keys_then_a_person_then_voicemail(stack, tmp_path):
    caller = Caller(stack)
    caller.call()
    first = spoken(caller.call())  # no speech, no keys
    assert "没有听到" in first and "按键" in first
    second = spoken(caller.call())
    assert "转人工请按0" in second and "留言请按9" in second
    root = caller.call()
    record = root.find("Record")
    assert record is not None and "留言" in spoken(root)
    recording = (
        f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE{secrets.token_hex(8)}"
    )
    root = caller.call(RecordingUrl=recording, RecordingDuration="12")
    assert root.find("Hangup") is not None
    number = number_in(spoken(root))
    again = caller.call(RecordingUrl=recording, RecordingDuration="12")  # Twilio retries
    assert number_in(spoken(again)) == number
    r = httpx.post(f"{stack.api_url}/api/v1/status", json={"number": number, "phone": caller.phone})
    assert r.status_code == 200


def test_bad_or_missing_signature_is_refused(stack):
    caller = Caller(stack)
    form = {"CallSid": caller.call_sid, "From": f"+86{caller.phone}", "SpeechResult": "你好"}
    url = stack.rasa_url + "/webhooks/hotline_voice/webhook"
    assert httpx.post(url, data=form).status_code == 403
    forged = RequestValidator("not-the-token").compute_signature(url, form)
    assert httpx.post(url, data=form, headers={"X-Twilio-Signature": forged}).status_code == 403
    r = caller.signed_post("/webhooks/hotline_sms/webhook", {"Body": "x"}, token="wrong")
    assert r.status_code == 403
    rasa_log = (stack.home / "logs" / "rasa.log").read_text(errors="replace")
    assert "bad or missing signature" in rasa_log


def test_replayed_webhooks_do_nothing_twice(stack):
    caller = Caller(stack)
    for body in ("我们村的高龄津贴半年没发了", "柳树村", "匿名"):
        caller.text(body)
    confirm_sid = "SM" + secrets.token_hex(16)
    first = caller.text("1", sid=confirm_sid)
    number = number_in(spoken(parse(first)))
    again = caller.text("1", sid=confirm_sid)
    assert again.text == first.text
    # A replayed voice webhook (same idempotency token) gets the same TwiML and no new turn.
    voice = Caller(stack)
    voice.call()
    token = {"I-Twilio-Idempotency-Token": secrets.token_hex(8)}
    form = {
        "CallSid": voice.call_sid,
        "From": f"+86{voice.phone}",
        "SpeechResult": "低保怎么申请",
    }
    one = voice.signed_post(voice.next_url, form, **token)
    two = voice.signed_post(voice.next_url, form, **token)
    assert one.text == two.text and "最低生活保障" in spoken(parse(one))
    r = httpx.post(f"{stack.api_url}/api/v1/status", json={"number": number, "phone": caller.phone})
    assert r.status_code == 200


def test_sms_shortcut_split_replies_and_one_conversation_with_calls(stack):
    caller = Caller(stack)
    caller.call()
    caller.say("村里的集体土地偷偷租给了外地老板 村民一分钱没见到")
    said = spoken(parse(caller.text("红旗村")))  # the call and the texts are one conversation
    assert "匿名" in said and "回复1匿名" in said
    caller.text("2")
    root = parse(caller.text("1"))
    number = number_in(spoken(root))
    status = parse(caller.text(f"查询 {number}"))
    messages = [el.text for el in status.iter("Message")]
    assert messages and all(len(m) <= 70 for m in messages)
    assert number in "".join(messages)
    policy = parse(caller.text("村里的账目要公开吗 村务公开都包括哪些内容 谁来监督"))
    parts = [el.text for el in policy.iter("Message")]
    assert len(parts) >= 2 and all(len(p) <= 70 for p in parts)
    # As few messages as possible: no two neighbours would have fitted in one.
    assert all(len(a) + len(b) > 70 for a, b in itertools.pairwise(parts))
