"""The phone channels' pure parts: keypad meaning by context, SMS packing, TwiML shape."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from bot.channels import keypad, twiml


def test_keys_mean_what_the_open_question_needs():
    assert keypad.interpret("1", {}).text == "/report_problem"
    assert keypad.interpret("2", {}).text == "/check_case"
    assert keypad.interpret("0", {}).text == "/ask_human"
    assert keypad.interpret("3", {}).step == "policy"
    assert keypad.interpret("9", {}).step == "voicemail"
    assert keypad.interpret("*", {"awaiting": "confirm"}).step == "repeat"
    assert keypad.interpret("1", {"awaiting": "confirm"}).text == "对"
    assert keypad.interpret("2", {"awaiting": "handoff_offer"}).text == "不对"
    assert keypad.interpret("1", {"requested_slot": "anonymity"}).text == "匿名"
    assert keypad.interpret("2", {"requested_slot": "anonymity"}).text == "留名"
    assert keypad.interpret("31415926#", {"requested_slot": "case_number"}).text == "31415926"
    assert keypad.interpret("1", {"requested_slot": "phone"}).text == "1"
    assert keypad.digits_expected({"requested_slot": "phone"}) is None
    assert keypad.digits_expected({"awaiting": "confirm"}) == 1
    assert keypad.key_hint({"requested_slot": "anonymity"}) == keypad.ANONYMITY


def test_sms_segments_are_few_and_short():
    text = "。".join(f"第{i}句话说的是一件需要讲清楚的事情" for i in range(12)) + "。"
    segments = twiml.sms_segments(text)
    assert "".join(segments) == text
    assert all(len(s) <= 70 for s in segments)
    assert all(len(a) + len(b) > 70 for a, b in itertools.pairwise(segments))
    long_sentence = "没" * 150
    assert [len(s) for s in twiml.sms_segments(long_sentence)] == [70, 70, 10]
    assert twiml.sms_segments("好的。") == ["好的。"]


def test_sms_writes_case_numbers_as_typed_digits():
    root = ET.fromstring(twiml.sms_reply(["您的案件号是：3 1 4 1 5 9 2 6。"]))
    assert root.find("Message").text == "您的案件号是：31415926。"


def test_voice_reads_case_numbers_twice_and_ends_with_hangup():
    said = twiml.repeat_case_numbers("已经登记好了。您的案件号是：3 1 4 1 5 9 2 6。")
    assert said.count("3 1 4 1 5 9 2 6") == 2
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
    assert gather.get("actionOnEmptyResult") == "true"
    assert len(gather.findall("Say")) == 2
    assert {el.tag for el in root.iter()} <= twiml.TWILIO_ELEMENTS
