"""Phone calls and SMS through the project's Twilio channels, against the real Rasa server,
action server and case service. Requests are signed exactly as Twilio signs them, with
twilio's own RequestValidator; every TwiML reply must parse, use only Twilio's verbs, keep every
<Say> to 30 characters with no number a voice would read as one, and every SMS segment must end
between words.

The dialogue's wording is the bot's (bot/domain.yml, actions/); these tests check what the
channels add: signatures, keys, spoken numbers, segments, one text per filing, voicemail."""

from __future__ import annotations

import itertools
import re
import secrets
import socket
import xml.etree.ElementTree as ET

import httpx
import jieba
import pytest
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bot.channels.twiml import SAY_MAX, SMS_SEGMENT, TWILIO_ELEMENTS, speak_digit_run
from hotline.bot_commands import train_bot
from hotline.processes import service_env
from hotline.stack import Stack

AUTH_TOKEN = secrets.token_hex(16)
HOTLINE_NUMBER = "+8655112345678"
UNSPACED_DIGITS = re.compile(r"\d{3,}")
SPOKEN_DIGITS = str.maketrans("零幺一二三四五六七八九", "01123456789")


@pytest.fixture(scope="module")
def stack(model_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("phone-stack")
    # A local token lies around (as after `make run`): with a real token set it must not count.
    (home / "local-twilio-token").write_text("local-" + secrets.token_hex(8))
    running = Stack(
        home,
        service_env(home, model_path, None),
        train_bot(),
        rasa_extra_env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "HOTLINE_VAR": str(home)},
    ).start()
    yield running
    running.stop()


def parse(reply: httpx.Response) -> ET.Element:
    """A reply as Twilio reads it, checked as a caller or texter would hear and read it."""
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(reply.text)
    assert root.tag == "Response"
    unknown = {el.tag for el in root.iter()} - TWILIO_ELEMENTS
    assert not unknown, unknown
    for say in root.iter("Say"):
        line = "".join(say.itertext())
        assert len(line) <= SAY_MAX, line
        assert not UNSPACED_DIGITS.search(line), line
    messages = [el.text or "" for el in root.iter("Message")]
    for message in messages:
        assert len(message) <= SMS_SEGMENT and "请说" not in message, message
    joined, at, bounds = "".join(messages), 0, {0}
    for word in jieba.cut(joined, HMM=False):
        at += len(word)
        bounds.add(at)
    at = 0
    for message in messages[:-1]:
        at += len(message)
        assert at in bounds, f"segment ends inside a word: {message}|{joined[at : at + 4]}"
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
    """The case (or voicemail) number in what was said or texted, spoken or typed."""
    digit = r"[\d零幺一二三四五六七八九]"
    found = re.search(rf"(?:案件号|登记号)[是为：:\s。，]*((?:{digit} ?){{8}})", said)
    assert found, said
    return found[1].replace(" ", "").translate(SPOKEN_DIGITS)


def texts_to(stack: Stack, phone: str) -> list[tuple[str, str]]:
    """(kind, body) of the case service's texts to a phone, oldest first."""
    engine = create_engine(f"sqlite:///{stack.home / 'hotline.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, body FROM sms_outbox WHERE to_phone = :p ORDER BY id"),
            {"p": f"+86{phone}"},
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def admin(stack: Stack) -> httpx.Client:
    note = (stack.home / "initial-admin.txt").read_text()
    password = re.search(r"password: (\S+)", note)[1]
    r = httpx.post(
        f"{stack.api_url}/api/v1/auth/token", json={"username": "admin", "password": password}
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    return httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


# -- voice ---------------------------------------------------------------------------------------
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
    caller.say("我要反映我们村的低保问题 村主任把低保都给了他自家亲戚")
    said = spoken(caller.say("李庄村"))
    assert "匿名请按1" in said and "按0" in said
    said = spoken(caller.press("*"))  # 重听: the same question again
    assert "匿名请按1" in said
    # 匿名; the phone is the caller's own number: nothing is missing, so it is filed at once.
    said = spoken(caller.press("1"))
    number = number_in(said)
    assert said.count(speak_digit_run(number)) >= 2  # read back digit by digit, twice
    assert "我记的是" in said and "对请按1" in said and "按0" in said  # then what was stored
    assert "就按这个办" in spoken(caller.press("1"))
    r = httpx.post(f"{stack.api_url}/api/v1/status", json={"number": number, "phone": caller.phone})
    assert r.status_code == 200
    root = caller.say("没有了 再见")
    assert root.find("Hangup") is not None and "再见" in spoken(root)


def test_zero_reaches_a_person_at_the_anonymity_question(stack):
    caller = Caller(stack)
    caller.call()
    caller.say("村里修路的钱拨下来了 路一直没修 村干部也不说钱去哪了")
    said = spoken(caller.say("王庄村"))
    assert "匿名请按1" in said
    root = caller.press("0")
    said = spoken(root)
    assert "人工" in said or "工作人员" in said, said


def test_a_caller_put_down_for_a_call_back_may_tell_the_matter_first(stack):
    """No operator to put the call through to and nothing told yet: the call is not cut off
    after the request is registered; what the caller says then goes into that same case."""
    caller = Caller(stack)
    caller.call()
    assert "什么事" in spoken(caller.say("转人工"))
    root = caller.say("别问了 让人给我回电话")
    said = spoken(root)
    assert "工作人员" in said and "现在就说" in said and root.find("Gather") is not None
    said = spoken(caller.say("柳树村修水渠的钱拨下来两年了 渠到现在一锹土都没挖"))
    assert "补到您的登记里" in said
    with admin(stack) as staff:
        listed = staff.get("/api/v1/cases", params={"limit": 500}).json()["items"]
        told = [
            staff.get(f"/api/v1/cases/{c['number']}").json()
            for c in listed
            if c.get("channel") == "voice"
        ]
    mine = [c for c in told if "一锹土都没挖" in c["text"]]
    assert len(mine) == 1 and "请求人工服务" in mine[0]["text"]
    assert mine[0]["village"] == "柳树村"


def test_a_caller_who_hangs_up_mid_filing_loses_nothing(stack):
    """Hung up at the phone question, before the read-back: the status callback files what was
    said (匿名, marked as not read back), the receipt is texted once, a resent callback files
    nothing more, and a call that ended with nothing told files nothing."""
    caller = Caller(stack)
    caller.call()
    caller.say("村里修水渠的钱拨下来两年了 渠到现在一锹土都没挖 村主任说钱先垫了别的")
    assert "匿名请按1" in spoken(caller.say("柳树村"))
    status = {
        "CallSid": caller.call_sid,
        "From": f"+86{caller.phone}",
        "To": HOTLINE_NUMBER,
        "CallStatus": "completed",
        "CallDuration": "48",
    }
    path = "/webhooks/hotline_voice/webhook?step=status"
    assert caller.signed_post(path, status).status_code < 300
    assert caller.signed_post(path, status).status_code < 300  # Twilio retries
    receipts = texts_to(stack, caller.phone)
    assert [kind for kind, _ in receipts] == ["receipt"]
    number = re.search(r"案件号(\d{8})", receipts[0][1])[1]
    with admin(stack) as staff:
        case = staff.get(f"/api/v1/cases/{number}").json()
        contact = staff.get(f"/api/v1/cases/{number}/contact").json()
    assert "水渠" in case["text"] and case["village"] == "柳树村"
    assert contact["anonymous"] is True and contact["name"] is None
    assert [h["action"] for h in case["history"]].count("not_read_back") == 1
    quiet = Caller(stack)
    quiet.call()
    assert (
        quiet.signed_post(
            path, {**status, "CallSid": quiet.call_sid, "From": f"+86{quiet.phone}"}
        ).status_code
        < 300
    )
    assert texts_to(stack, quiet.phone) == []
    unsigned = httpx.post(stack.rasa_url + path, data=status)
    assert unsigned.status_code == 403


def test_status_by_keypad(stack):
    filer = Caller(stack)
    filer.call()
    for speech in ("村里修路的钱拨下来了 路一直没修", "王庄村"):
        filer.say(speech)
    number = number_in(spoken(filer.press("1")))  # 匿名: filed at once

    neighbour = Caller(stack)  # someone else keys in the number from another phone
    neighbour.call()
    root = neighbour.press("2")
    gather = root.find("Gather")
    assert gather.get("numDigits") is None and gather.get("finishOnKey") == "#"
    assert "井号" in spoken(root)
    root = neighbour.press(number)  # Twilio leaves out the finishing #
    said = spoken(root)
    assert "没有" in said or "电话" in said, said  # not this caller's case: not told
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)  # mistyped: stays in the lookup
    said = spoken(neighbour.press(wrong))
    assert "已受理" not in said and "匿名" not in said, said


def test_silence_offers_keys_then_a_person_then_voicemail_in_the_listening_queue(stack):
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
    with admin(stack) as staff:
        case = staff.get(f"/api/v1/cases/{number}").json()
        assert case["triage_status"] == "待听录音" and case["category"] is None
        assert case["audio_url"] == recording and case["audio_seconds"] == 12
        assert case["due_date"] is None


# -- signatures ------------------------------------------------------------------------------------
def test_bad_or_missing_signature_is_refused(stack):
    caller = Caller(stack)
    form = {"CallSid": caller.call_sid, "From": f"+86{caller.phone}", "SpeechResult": "你好"}
    url = stack.rasa_url + "/webhooks/hotline_voice/webhook"
    assert httpx.post(url, data=form).status_code == 403
    forged = RequestValidator("not-the-token").compute_signature(url, form)
    assert httpx.post(url, data=form, headers={"X-Twilio-Signature": forged}).status_code == 403
    r = caller.signed_post("/webhooks/hotline_sms/webhook", {"Body": "x"}, token="wrong")
    assert r.status_code == 403
    # The local token is not accepted once a real one is set, even from this machine.
    local = (stack.home / "local-twilio-token").read_text().strip()
    sms = {"MessageSid": "SM" + secrets.token_hex(16), "From": "+8613900000000", "Body": "查询"}
    assert caller.signed_post("/webhooks/hotline_sms/webhook", sms, token=local).status_code == 403
    rasa_log = (stack.home / "logs" / "rasa.log").read_text(errors="replace")
    assert "bad or missing signature" in rasa_log
    for channel in ("hotline_voice", "hotline_sms"):
        health = httpx.get(f"{stack.rasa_url}/webhooks/{channel}/")
        assert health.status_code == 200 and health.json()["status"] == "ok"


def test_replayed_webhooks_do_nothing_twice_and_a_text_filing_gets_one_text(stack):
    caller = Caller(stack)
    for body in ("我们村的高龄津贴半年没发了", "柳树村"):
        caller.text(body)
    filing_sid = "SM" + secrets.token_hex(16)
    first = caller.text("1", sid=filing_sid)  # 匿名: nothing else missing, filed at once
    # The case number once per filing, in the service's receipt; the bot's reply is the record
    # of what was stored (to correct), without the number.
    reply = "".join(m.text or "" for m in ET.fromstring(first.text).findall("Message"))
    assert "记的是" in reply and "柳树村" in reply
    receipts = texts_to(stack, caller.phone)
    assert [kind for kind, _ in receipts] == ["receipt"]
    number = re.search(r"案件号(\d{8})", receipts[0][1])[1]
    assert number not in reply
    again = caller.text("1", sid=filing_sid)
    assert again.text == first.text and len(texts_to(stack, caller.phone)) == 1
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
    assert one.text == two.text
    parse(one)
    r = httpx.post(f"{stack.api_url}/api/v1/status", json={"number": number, "phone": caller.phone})
    assert r.status_code == 200


# -- SMS -----------------------------------------------------------------------------------------
def test_sms_shortcut_segments_and_one_conversation_with_calls(stack):
    caller = Caller(stack)
    caller.call()
    caller.say("村里的集体土地偷偷租给了外地老板 村民一分钱没见到")
    said = spoken(parse(caller.text("红旗村")))  # the call and the texts are one conversation
    assert "回复1匿名" in said
    parse(caller.text("1"))  # 匿名
    parse(caller.text("1"))  # 对: filed, and the case service texts the receipt
    number = re.search(r"案件号(\d{8})", texts_to(stack, caller.phone)[-1][1])[1]
    status = parse(caller.text(f"查询 {number}"))
    messages = [el.text for el in status.iter("Message")]
    assert messages and number in "".join(messages)
    cut, asker = 0, Caller(stack)
    for question in ("低保怎么申请", "五保怎么申请"):
        policy = parse(asker.text(question))
        parts = [el.text for el in policy.iter("Message")]
        assert 1 <= len(parts) <= 2  # at most two segments, however long the answer
        assert all(len(a) + len(b) > 70 for a, b in itertools.pairwise(parts))
        if "回复1看全文" in "".join(parts):  # a long answer: the rest comes on "1", once
            cut += 1
            sid = "SM" + secrets.token_hex(16)
            more = asker.text("1", sid=sid)
            rest = "".join(el.text for el in parse(more).iter("Message"))
            assert rest and not rest.startswith("回复1")
            assert asker.text("1", sid=sid).text == more.text  # Twilio resends it
    assert cut >= 1, f"no answer was long enough to be cut: {parts}"


# -- not configured --------------------------------------------------------------------------
def _own_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def unconfigured(model_path, tmp_path_factory):
    """No TWILIO_AUTH_TOKEN, as after a fresh `make run`: listening on every interface so a
    request can come from another address than loopback."""
    home = tmp_path_factory.mktemp("phone-unconfigured")
    (home / "local-twilio-token").write_text(secrets.token_hex(16))
    env = service_env(home, model_path, None)
    env.pop("TWILIO_AUTH_TOKEN", None)
    running = Stack(
        home, env, train_bot(), host="0.0.0.0", rasa_extra_env={"HOTLINE_VAR": str(home)}
    )
    running.rasa_extra_env["TWILIO_AUTH_TOKEN"] = ""
    running.start()
    yield running
    running.stop()


def test_unconfigured_line_says_so_and_takes_the_local_token_only_from_this_machine(unconfigured):
    for channel in ("hotline_voice", "hotline_sms"):
        health = httpx.get(f"{unconfigured.rasa_url}/webhooks/{channel}/")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "not_configured" and "TWILIO_AUTH_TOKEN" in body["reason"]
    local = (unconfigured.home / "local-twilio-token").read_text().strip()
    caller = Caller(unconfigured)
    form = {"MessageSid": "SM" + secrets.token_hex(16), "From": "+8613900000077", "Body": "你好"}
    path = "/webhooks/hotline_sms/webhook"
    parse(caller.signed_post(path, form, token=local))  # from this machine: accepted
    assert caller.signed_post(path, form, token=AUTH_TOKEN).status_code == 403
    forwarded = caller.signed_post(path, form, token=local, **{"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 403  # through a proxy: it comes from elsewhere
    address = _own_address()
    if address is None:
        pytest.skip("no network address besides loopback")
    url = f"http://{address}:{unconfigured.rasa_port}{path}"
    signature = RequestValidator(local).compute_signature(url, form)
    r = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)
    assert r.status_code == 403  # the local token from another address: refused


# -- the terminal simulator ------------------------------------------------------------------------
def test_hotline_phone_plays_a_call_and_texts(stack, capsys):
    import io

    from hotline.phone_commands import Line, play_call, play_sms

    line = Line(stack.rasa_url, AUTH_TOKEN)
    phone = "+86139" + "".join(secrets.choice("0123456789") for _ in range(8))
    assert play_call(line, phone, io.StringIO("2\n\n*\n0\n"), outbox=False) == 0
    out = capsys.readouterr().out
    assert "来电人> 2" in out and "[按键" in out and "井号" in out
    assert "[挂断]" in out or "[转接人工" in out or "人工" in out
    lines = [row.strip() for row in out.splitlines() if row.startswith("  ") and "[" not in row]
    assert lines and all(len(row) <= SAY_MAX for row in lines)
    assert play_sms(line, phone, io.StringIO("低保怎么申请\n"), outbox=False) == 0
    out = capsys.readouterr().out
    assert "短信> 低保怎么申请" in out and "短信1（" in out
    refused = Line(stack.rasa_url, "not-the-token")
    assert play_sms(refused, phone, io.StringIO("你好\n"), outbox=False) == 1
    assert "HTTP 403" in capsys.readouterr().out
