"""The phone channels' pure parts: keypad meaning by context, how numbers and dates are said,
<Say> length, SMS segments (never inside a word), cutting long answers, TwiML shape."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date

import jieba
import pytest

from bot.channels import keypad, twiml
from bot.channels.provider import TwilioProvider

UNSPACED_DIGITS = re.compile(r"\d{3,}")


def says(body: str) -> list[str]:
    """Every <Say>'s words in a TwiML reply (checked: Twilio's verbs only)."""
    root = ET.fromstring(body)
    assert {el.tag for el in root.iter()} <= twiml.TWILIO_ELEMENTS
    return ["".join(say.itertext()) for say in root.iter("Say")]


def assert_speakable(body: str) -> list[str]:
    """What the issue asks of every voice reply: no <Say> over 30 characters, no run of three
    or more digits a voice would read as one number."""
    lines = says(body)
    for line in lines:
        assert len(line) <= twiml.SAY_MAX, line
        assert not UNSPACED_DIGITS.search(line), line
    return lines


def word_bounds(text: str) -> set[int]:
    """Offsets where jieba's words of ``text`` meet (where a segment may end)."""
    bounds, at = {0}, 0
    for word in jieba.cut(text, HMM=False):
        at += len(word)
        bounds.add(at)
    return bounds


# -- the keypad ----------------------------------------------------------------------------------
def test_keys_mean_what_the_open_question_needs():
    assert keypad.interpret("1", {}).text == "/report_problem"
    assert keypad.interpret("2", {}).text == "/check_case"
    assert keypad.interpret("0", {}).text == "/ask_human"
    assert keypad.interpret("3", {}).step == "policy"
    assert keypad.interpret("9", {}).step == "voicemail"
    assert keypad.interpret("7", {}).step == "menu"
    assert keypad.interpret("*", {"awaiting": "confirm"}).step == "repeat"
    assert keypad.interpret("1", {"awaiting": "confirm"}).text == "对"
    assert keypad.interpret("2", {"awaiting": "handoff_offer"}).text == "不对"
    assert keypad.interpret("1", {"requested_slot": "anonymity"}).text == "匿名"
    assert keypad.interpret("2", {"requested_slot": "anonymity"}).text == "留名"
    assert keypad.interpret("31415926#", {"requested_slot": "case_number"}).text == "31415926"
    assert keypad.interpret("1", {"requested_slot": "phone"}).text == "1"
    assert keypad.digits_expected({"requested_slot": "phone"}) is None
    assert keypad.digits_expected({"requested_slot": "case_number"}) is None
    assert keypad.digits_expected({"awaiting": "confirm"}) == 1
    assert keypad.key_hint({"requested_slot": "anonymity"}).startswith(keypad.ANONYMITY)
    # A finished case's status invites a rating: one key gives it.
    assert keypad.interpret("3", {"awaiting": "rating_offer"}).text == "不满意"
    assert keypad.interpret("1", {"awaiting": "rating"}).text == "满意"
    assert keypad.digits_expected({"awaiting": "rating_offer"}) == 1
    assert keypad.key_hint({"awaiting": "rating_offer"}).startswith(keypad.RATING)


@pytest.mark.parametrize(
    "slots",
    [
        {},
        {"awaiting": "confirm"},
        {"awaiting": "handoff_offer"},
        {"awaiting": "resume"},
        {"awaiting": "rating_offer"},
        {"requested_slot": "anonymity"},
        {"requested_slot": "case_number"},
        {"requested_slot": "phone"},
        {"requested_slot": "village"},
        {"requested_slot": "village", "township": "城关镇"},
        {"requested_slot": "complaint_text"},
        {"requested_slot": "name"},
    ],
)
def test_zero_reaches_a_person_and_star_repeats_at_every_question(slots):
    assert keypad.interpret("0", slots).text == "/ask_human"
    assert keypad.interpret("0#", slots).text == "/ask_human"
    assert keypad.interpret("*", slots).step == "repeat"
    assert keypad.interpret("#", slots).step == "repeat"
    hint = keypad.key_hint(slots)
    if keypad.context_of(slots) not in ("menu", "speech"):
        assert "按0" in hint and "星号" in hint


def test_numbers_are_keyed_whole_and_never_wrapped_in_a_payload():
    for slots in ({"requested_slot": "case_number"}, {"requested_slot": "complaint_text"}):
        assert keypad.interpret("88248476#", slots).text == "88248476"
        assert keypad.interpret("8824*8476#", slots).text == "88248476"
    # A mistyped number keyed during the status flow stays a number (the bot's lookup).
    assert keypad.interpret("88248477#", {"requested_slot": "case_number"}).text == "88248477"
    for slots in ({}, {"awaiting": "confirm"}, {"requested_slot": "anonymity"}):
        action = keypad.interpret("13912345678", slots)
        assert action.text == "13912345678" and not action.text.startswith("/")


def test_village_chosen_from_the_townships_list():
    slots = {"requested_slot": "village", "township": "城关镇"}
    assert keypad.context_of(slots) == "village"
    assert keypad.interpret("1", slots).text == "河湾村"
    assert keypad.interpret("3", slots).text == "李庄村"
    assert keypad.digits_expected(slots) == 1
    hint = keypad.key_hint(slots)
    assert "河湾村按1" in hint and "梅河村按7" in hint
    lines = assert_speakable(twiml.gather_reply(["是哪个村的？", hint], action="/x", hints=""))
    assert "河湾村按1，" in lines or any("河湾村按1" in line for line in lines)
    # An alias of the township works; an unknown township offers no list (say the name).
    assert keypad.interpret("2", {**slots, "township": "桃溪"}).text == "东风村"
    assert keypad.context_of({"requested_slot": "village"}) == "speech"
    assert keypad.context_of({"requested_slot": "village", "township": "不存在镇"}) == "speech"


# -- voice ---------------------------------------------------------------------------------------
def test_numbers_are_said_digit_by_digit_and_dates_as_people_say_them():
    said = twiml.spoken(
        "您的案件34377550办理期限是2026-12-18，电话13912345678。", date(2026, 12, 4)
    )
    assert said == "您的案件三四三七 七五五零办理期限是12月18日，电话幺三九 幺二三四 五六七八。"
    assert twiml.spoken("3 4 3 7 7 5 5 0") == "三四三七 七五五零"
    assert twiml.spoken("请在2027年1月5日前", date(2026, 12, 4)) == "请在二零二七年1月5日前"
    assert twiml.spoken("补贴3000元，10500元，120亩") == "补贴三千元，一万零五百元，一百二十亩"
    assert twiml.spoken("打12345热线，按1") == "打幺二三四五热线，按1"
    assert twiml.spoken("座机05511234567") == "座机零五五幺 幺二三四 五六七"


def test_every_say_is_short_and_never_an_unspaced_number():
    texts = [
        "已经登记好了。您的案件号是：3 4 3 7 7 5 5 0。我们会在2026年12月18日之前联系您，"
        "请保持电话13912345678畅通，如果有新的情况可以再打这个电话告诉我们，谢谢您对监督工作的支持。",
        "您的案件34377550，已转交城关镇人民政府民政办办理，办理期限12月18日，目前正在办理中，请耐心等待。",
        "低保的全称是最低生活保障家庭人均收入低于当地低保标准且符合家庭财产规定的可以申请",
    ]
    lines = assert_speakable(twiml.gather_reply(texts, action="/x", hints=""))
    assert sum("三四三七 七五五零" in line for line in lines) >= 3  # read twice, then again
    assert_speakable(twiml.final_reply(texts))
    assert_speakable(
        twiml.record_reply(
            "请在嘀的一声后留言，说您要反映的事和您的村，说完按井号键。", action="/v"
        )
    )


def test_voice_reads_case_numbers_twice_and_ends_with_hangup():
    said = twiml.repeat_case_numbers("已经登记好了。您的案件号是：3 1 4 1 5 9 2 6。")
    assert said.count("3 1 4 1 5 9 2 6") == 2
    assert twiml.repeat_case_numbers("案件号是31415926，我再说一遍，31415926").count("3141") == 2
    root = ET.fromstring(twiml.final_reply(["谢谢您的反映，再见。"]))
    assert [child.tag for child in root][-1] == "Hangup"
    assert sum("再见" in (p.text or "") for p in root.iter("prosody")) == 1
    dialled = ET.fromstring(twiml.final_reply(["转接中。"], dial="+8655100000000"))
    assert dialled.find("Dial").text == "+8655100000000"


def test_gather_listens_for_mandarin_speech_and_keys():
    root = ET.fromstring(
        twiml.gather_reply(["您好。请说。"], action="/x?turn=1", hints="低保", num_digits=1)
    )
    gather = root.find("Gather")
    assert gather.get("language") == "cmn-Hans-CN" and gather.get("numDigits") == "1"
    assert gather.get("actionOnEmptyResult") == "true" and gather.get("finishOnKey") == "#"
    assert len(gather.findall("Say")) == 2
    assert {el.tag for el in root.iter()} <= twiml.TWILIO_ELEMENTS


# -- SMS -----------------------------------------------------------------------------------------
def test_sms_segments_are_few_and_short():
    text = "。".join(f"第{i}句话说的是一件需要讲清楚的事情" for i in range(12)) + "。"
    segments = twiml.sms_segments(text)
    assert "".join(segments) == text
    assert all(len(s) <= 70 for s in segments)
    assert all(len(a) + len(b) > 70 for a, b in itertools.pairwise(segments))
    assert twiml.sms_segments("好的。") == ["好的。"]


SMS_TEXTS = [
    "您反映的问题已经记下了。请回复电话号码，方便工作人员回复您办理结果；不想留电话请回复“不留”。"
    "您也可以回复“查询进度”了解办理情况，或者回复0转人工。",
    "低保的全称是最低生活保障，家庭人均收入低于当地低保标准、且符合家庭财产规定的，可以申请。"
    "申请时向户籍所在地的乡镇人民政府（街道办事处）提出书面申请，村委会可以代为提交。"
    "审核审批一般在30个工作日内完成，结果会在村里公示。",
    "没有标点的一段很长的话说的是村里修路的钱到底花到哪里去了大家都不知道村干部也不公开账目"
    "群众意见很大希望上级派人来查一查给老百姓一个明白的交代",
]
SMS_TEXTS += [
    SMS_TEXTS[1]
    + "如果对结果有异议，可以在公示期内向乡镇人民政府或者县民政局反映，也可以拨打热线。",
    SMS_TEXTS[2] * 3,
]


@pytest.mark.parametrize("text", SMS_TEXTS)
def test_sms_segments_never_split_a_word(text):
    segments = twiml.sms_segments(text)
    assert "".join(segments) == text and all(len(s) <= 70 for s in segments)
    bounds, at = word_bounds(text), 0
    for segment in segments[:-1]:
        at += len(segment)
        assert at in bounds, (segment, text[at - 3 : at + 3])


@pytest.mark.parametrize("text", SMS_TEXTS)
def test_long_answers_fit_two_segments_and_the_rest_comes_on_1(text):
    shown, rest = twiml.sms_fit(text)
    if len(twiml.sms_segments(text)) <= 2:
        assert (shown, rest) == (text, None)
        return
    assert len(twiml.sms_segments(shown)) <= 2 and shown.endswith(twiml.MORE_HINT)
    assert rest and (shown[: -len(twiml.MORE_HINT)].rstrip("…") + rest).replace("，", "") in (
        text.replace("，", "")
    )
    cut = len(shown[: -len(twiml.MORE_HINT)].rstrip("…"))
    assert cut in word_bounds(text)


def test_policy_answer_of_110_characters_takes_two_texts_at_most():
    answer = SMS_TEXTS[1][:110]
    root = ET.fromstring(twiml.sms_reply([answer]))
    assert len(root.findall("Message")) <= 2


def test_texts_say_reply_not_say():
    assert twiml.sms_wording("请说您要反映的事。") == "请回复您要反映的事。"
    assert twiml.sms_wording("您可以说“查询进度”。") == "您可以回复“查询进度”。"
    assert twiml.sms_wording("不想说可以说“不说”。") == "不想说可以回复“不说”。"
    assert twiml.sms_wording("请直接说您要办的事，说完稍等一下。") == "请直接回复您要办的事。"
    root = ET.fromstring(twiml.sms_reply(["这件事是哪个村的？请说村名。"]))
    assert "请回复村名" in root.find("Message").text


def test_sms_writes_case_numbers_as_typed_digits():
    root = ET.fromstring(twiml.sms_reply(["您的案件号是：3 1 4 1 5 9 2 6。"]))
    assert root.find("Message").text == "您的案件号是：31415926。"
    assert ET.fromstring(twiml.sms_reply([])).findall("Message") == []


# -- the provider ----------------------------------------------------------------------------------
def test_provider_reads_twilio_forms_and_checks_signatures():
    provider = TwilioProvider()
    call = provider.inbound(
        {"From": "+8613900000001", "CallSid": "CA1", "Digits": "2", "RecordingDuration": "42"}
    )
    assert (call.caller, call.call_id, call.digits, call.recording_seconds) == (
        "+8613900000001",
        "CA1",
        "2",
        42,
    )
    url, form = "https://h.example.cn/webhooks/hotline_sms/webhook", {"Body": "查询", "From": "x"}
    signature = provider.sign("t" * 32, url, form)
    assert provider.is_valid("t" * 32, url, form, signature)
    assert not provider.is_valid("u" * 32, url, form, signature)
    assert not provider.is_valid("t" * 32, url, {**form, "Body": "别的"}, signature)
    assert not provider.is_valid("t" * 32, url, form, "")
