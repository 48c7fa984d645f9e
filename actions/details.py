"""Reading the details the complaint form asks for out of what a resident says. Pure functions:
each returns None when the message does not answer the question, so the bot asks again."""

from __future__ import annotations

import re

from actions.spoken import find_phone

# Place names are a few Han characters before a suffix; the characters of ordinary speech
# around them (particles, pronouns, verbs) never belong to a name.
_NOT_IN_NAMES = (
    "了的都是在给把被我你他她们这那个有没不也就还要说和跟对向从钱事时候啥咋"  # particles, pronouns
    "映报诉回进出到去各哪全该邻"  # 反映村里 / 举报村干部 / 到村里 / 全村 / 邻村
)
_NAME = rf"[^\W\d_{_NOT_IN_NAMES}]"
_STRONG = re.compile(
    rf"(?:({_NAME}{{1,6}}(?:镇|乡|街道)))?({_NAME}{{1,6}}(?:村|社区|居委会))(\w{{1,3}}(?:组|队))?"
)
_WEAK = re.compile(rf"({_NAME}{{1,5}}(?:屯|寨|庄|湾|圩|坝|岗|冲|店|镇|乡))(\w{{1,3}}(?:组|队))?")
_GROUP_ONLY = re.compile(r"([一二三四五六七八九十\d]{1,3}(?:组|队))")
_PLACE_STOPWORDS = re.compile(r"^(?:我是|俺是|我们|俺们|我家|俺家|住在|我住|在|是|就是|俺)")
_NOT_PLACES = {"农村", "本村", "我村", "全村", "乡村", "山村", "该村", "此村", "邻村", "外村"}

_ANONYMOUS = re.compile(
    r"匿名|不留名|不要留名|别留名|不想留名|保密|不要写我|别写我|不透露|不要名字|不愿意留名|不敢留名"
)
_NAMED = re.compile(r"实名|留名|可以留|写我名字|留我名字|不用匿名|不需要匿名|不怕|公开我")
_NO_PHONE = re.compile(r"不留|没有电话|没电话|不方便留|不想留|不给|不用了|算了|冇得电话|没手机")
_THIS_PHONE = re.compile(r"这个号|本机|就打这|这个电话|现在这个|来电号码|打进来的")
_UNKNOWN_PLACE = re.compile(r"不想说|不说|不方便说|保密|不知道")


def find_village(text: str) -> str | None:
    """The first place name in the text ('我是东风镇红旗村五组的' → '东风镇红旗村五组')."""
    for pattern in (_STRONG, _WEAK, _GROUP_ONLY):
        for match in pattern.finditer(text):
            place = _PLACE_STOPWORDS.sub("", "".join(part for part in match.groups() if part))
            if len(place) >= 2 and place not in _NOT_PLACES:
                return place
    return None


def answer_village(text: str) -> str | None:
    """An answer to "哪个村？": a place name, a bare short name ('王家湾'), or a refusal."""
    place = find_village(text)
    if place:
        return place
    bare = re.sub(r"[\s，。,.!！?？的了啊呀吧]+", "", text)
    bare = _PLACE_STOPWORDS.sub("", bare)
    if _UNKNOWN_PLACE.search(text):
        return "未说明"
    if 2 <= len(bare) <= 8 and re.fullmatch(r"[\u4e00-\u9fa5\d]+", bare):
        return bare
    return None


def answer_anonymity(text: str, intent: str | None) -> str | None:
    """'anonymous' or 'named' for "要匿名吗？". 是/对 means yes, anonymous; 不 means named."""
    if _NAMED.search(text) and not re.search(r"不(?:要|想|愿意)?(?:实名|留名)", text):
        return "named"
    if _ANONYMOUS.search(text):
        return "anonymous"
    if intent == "affirm":
        return "anonymous"
    if intent == "deny":
        return "named"
    return None


def answer_phone(text: str, channel_phone: str | None) -> str | None:
    """A phone number, 'none' when the resident will not leave one, or the number the resident
    is calling or texting from when they say "就打这个号"."""
    phone = find_phone(text)
    if phone:
        return phone
    if channel_phone and _THIS_PHONE.search(text):
        return channel_phone
    if _NO_PHONE.search(text):
        return "none"
    return None
