"""The bot's pure helpers: digits as residents say them, place names, consent answers,
policy lookup and the read-back wording."""

from __future__ import annotations

import re

import pytest

from actions.details import answer_anonymity, answer_phone, answer_village, find_village
from actions.policy import answer, item_named_in, load_policies
from actions.spoken import find_case_number, find_phone, numbers_in, say_digits
from actions.wording import is_bare_request, read_back, receipt
from api.case_numbers import new_case_number


@pytest.fixture(scope="module")
def number() -> str:
    return new_case_number()


def spoken(digits: str, names: str = "零幺二三四五六七八九") -> str:
    return "".join(names[int(d)] for d in digits)


def test_case_number_typed_spaced_or_spoken(number):
    assert find_case_number(number) == (number, False)
    assert find_case_number(f"查一下 {number[:4]} {number[4:]} 的进度") == (number, False)
    assert find_case_number(f"案件号{spoken(number)}") == (number, False)
    assert find_case_number(f"编号是{spoken(number, '洞一两三四五六拐八勾')}") == (number, False)
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert find_case_number(full_width) == (number, False)


def test_mistyped_case_number_is_reported_not_guessed(number):
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert find_case_number(wrong) == (None, True)
    assert find_case_number("我的案子怎么样了") == (None, False)


def test_case_number_and_phone_in_one_breath(number):
    assert numbers_in(f"{number}13912345678") == [number, "13912345678"]
    assert numbers_in(f"13912345678 {number}") == ["13912345678", number]
    assert find_phone(f"{number}，电话幺三九一二三四五六七八") == "13912345678"


def test_phone_numbers():
    assert find_phone("我电话是139 1234 5678") == "13912345678"
    assert find_phone("座机05511234567") == "05511234567"
    assert find_phone("电话12345") is None
    assert answer_phone("就打这个号吧", "13800001111") == "13800001111"
    assert answer_phone("不留了", None) == "none"
    assert answer_phone("嗯", None) is None


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("我是李庄村的", "李庄村"),
        ("东风镇红旗村五组", "东风镇红旗村五组"),
        ("俺们上湾村三组的低保有问题", "上湾村三组"),
        ("俺是张家庄的，村里修路的钱被贪了", "张家庄"),
        ("我们村低保都给了村主任亲戚", None),
    ],
)
def test_place_names(text, place):
    assert find_village(text) == place


def test_village_answers():
    assert answer_village("王家湾") == "王家湾"
    assert answer_village("这个不想说") == "未说明"
    assert answer_village("我们那个地方的村干部天天打牌不办事情") is None


def test_anonymity_answers():
    assert answer_anonymity("匿名吧", None) == "anonymous"
    assert answer_anonymity("可以留名", None) == "named"
    assert answer_anonymity("不要留名", None) == "anonymous"
    assert answer_anonymity("对", "affirm") == "anonymous"
    assert answer_anonymity("不用", "deny") == "named"
    assert answer_anonymity("嗯嗯", None) is None


def test_bare_requests_are_not_complaints():
    assert is_bare_request("我要举报")
    assert is_bare_request("喂，我想反映个事情。")
    assert not is_bare_request("我要举报村主任把低保给他小舅子")


def test_policy_lookup_uses_the_items_own_words():
    policies = load_policies()
    assert set(policies) >= {"S01", "S02", "S05", "OUT"}
    assert item_named_in("低保怎么申请", policies) == "S01"
    assert item_named_in("五保户有啥待遇", policies) == "S02"
    assert item_named_in("高龄津贴多少钱一个月", policies) == "S05"
    assert item_named_in("今天天气好", policies) is None
    said = answer(policies["S05"])
    assert policies["S05"].name in said


def test_policy_answers_invent_no_amounts():
    """Amounts differ by county: the answers may name national hotlines, never a sum."""
    allowed = {"12345", "110", "12388", "12315", "12348", "80"}
    for policy in load_policies().values():
        said = answer(policy)
        digits = set(re.findall(r"\d+", said))
        assert digits <= allowed, (policy.code, digits)
        assert "元" not in said.replace("单元", ""), policy.code


def test_read_back_and_receipt_read_digits_one_by_one(number):
    said = read_back("村里低保给了村主任亲戚", "最低生活保障", "李庄村", "anonymous", "13912345678")
    assert "最低生活保障" in said and "李庄村" in said and "匿名" in said
    assert "1 3 9 1 2 3 4 5 6 7 8" in said
    assert say_digits(number) in receipt(number, None, "2026年12月11日", True)
    joined = receipt(number, "31415926", None, True)
    assert "3 1 4 1 5 9 2 6" in joined and "并到" in joined
