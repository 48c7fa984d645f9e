"""What the bot says when the words depend on data: read-backs, receipts, plain summaries.
Short sentences, no jargon, numbers read one digit at a time, because many callers are old."""

from __future__ import annotations

import re

from actions.spoken import say_digits

_BARE_REQUEST = re.compile(
    r"^(?:喂|你好|您好|那个|嗯|啊|就是)*(?:我|俺|咱)?(?:们)?(?:要|想|得|来)?"
    r"(?:举报|反映|投诉|告状|说|讲)(?:一下|一个|个|点)?(?:事|事情|问题|情况|村里的事|个事)?(?:儿)?$"
)
_PUNCTUATION = re.compile(r"[\s，。、,.!！?？~…]+")
_HAN = re.compile(r"[\u4e00-\u9fa5]")


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def is_bare_request(text: str) -> bool:
    """'我要举报' says a complaint is coming, not what it is."""
    return bool(_BARE_REQUEST.match(_PUNCTUATION.sub("", text)))


def excerpt(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_back(
    text: str, item_name: str | None, village: str, anonymity: str, phone: str | None
) -> str:
    parts = [f"我跟您核对一下：您反映的是“{excerpt(text)}”"]
    if item_name:
        parts.append(f"属于“{item_name}”方面的问题")
    else:
        parts.append("属于哪一类还要工作人员再看")
    if village and village != "未说明":
        parts.append(f"地点是{village}")
    parts.append("匿名反映" if anonymity == "anonymous" else "实名反映")
    parts.append(f"回复电话{say_digits(phone)}" if phone else "没有留电话")
    return "，".join(parts) + "。对吗？对就说“对”，哪里不对请直接说。"


def receipt(number: str, joined_case: str | None, due: str | None, has_phone: bool) -> str:
    if joined_case:
        said = (
            f"已经登记好了。您之前反映的案件{say_digits(joined_case)}还在办理中，是同一件事，"
            f"这次的反映已经并到那个案件一起办。查询进度请用案件号{say_digits(joined_case)}。"
        )
    else:
        said = f"已经登记好了。您的案件号是：{say_digits(number)}。请记下这个号码，查进度要用。"
        if due:
            said += f"一般在{due}前办完。"
    if not has_phone:
        said += "您没有留电话，查进度需要电话，以后可以再打来或者找网格员帮忙。"
    return said


def plain_date(iso: str | None) -> str | None:
    """'2026-12-11' → '12月11日' (year said only when it is not obvious)."""
    if not iso:
        return None
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{year}年{month}月{day}日"


_DISSATISFIED = re.compile(r"不(?:太|怎么|大|是很)?满意|不满|差评")
_PARTLY = re.compile(r"基本|还行|凑合|一般|还算|马马虎虎|还可以")


def rating_in(text: str) -> str | None:
    """满意 / 基本满意 / 不满意 as residents say them ('还凑合 基本满意', '一点都不满意')."""
    if _DISSATISFIED.search(text):
        return "不满意"
    if "满意" in text or _PARTLY.search(text):
        return "基本满意" if _PARTLY.search(text) else "满意"
    return None
