"""The one mapping from the service's internal names (history actions, channels, roles, actors)
to the Chinese words staff read, and Beijing time for every timestamp shown to them.

Pages, CSV exports and command output meant for staff all go through here, so an internal name
added in one place (a new history action, a channel) is translated once and for all, and a
timestamp written in UTC or with an offset ("+0000") is shown as 北京时间 like every other.
Standard library only: the command line imports it too.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "CST")

ROLE_NAMES = {
    "supervisor": "纪检监督",
    "handler": "办理单位",
    "grid_worker": "网格员",
    "analyst": "分析员",
}

CHANNEL_NAMES = {
    "web": "网页",
    "sms": "短信",
    "voice": "电话",
    "grid_worker": "网格员代报",
    "staff": "工作人员录入",
}

# Each kind of history row (``CaseEvent.action``), as the case page's 办理记录 names it.
ACTION_NAMES = {
    "accepted": "受理",
    "triaged": "自动分类",
    "state": "状态变更",
    "reply": "答复群众",
    "note": "内部备注",
    "category": "事项确认/更正",
    "resident_category": "群众确认的事项",
    "escalated": "提级督办",
    "merged": "合并",
    "split": "拆分",
    "repeat": "重复反映",
    "rating": "群众评价",
    "handoff": "转人工服务",
    "handoff_unverified": "转人工服务（手机号未核实）",
    "transcribed": "录入录音内容",
    "amended": "群众听复述后更正",
    "not_read_back": "来电人未听完复述",
}

ACTOR_NAMES = {"system": "系统", "resident": "群众"}

# How label decisions are named (api.labels): a supervisor's click on a case, or an analyst's
# label from the labelling queue.
LABEL_KINDS = {"confirm": "确认", "correct": "更正", "analyst": "分析员标注"}

# Why the labelling queue picked a case (api.labels).
PICK_REASONS = {
    "low_confidence": "模型把握不大",
    "disagreement": "模型与人工判断不一致",
    "new_wording": "新说法（模型没见过的词多）",
    "random": "随机抽样（用于无偏估计）",
}

_CHANNEL_NOTE = re.compile(r"通过([a-z_]+)渠道受理")


def action_name(action: str | None) -> str:
    return ACTION_NAMES.get(action or "", action or "")


def channel_name(channel: str | None) -> str:
    return CHANNEL_NAMES.get(channel or "", channel or "")


def role_name(role: str | None) -> str:
    return ROLE_NAMES.get(role or "", role or "")


def actor_name(actor: str | None) -> str:
    """``user:wang`` is the account name; the system and the resident in words."""
    if not actor:
        return ""
    if actor.startswith("user:"):
        return actor[5:]
    return ACTOR_NAMES.get(actor, actor)


def history_note(note: str | None) -> str:
    """A history note as staff read it: rows written before the channel was named in Chinese
    ("通过voice渠道受理") get the channel's name."""
    if not note:
        return ""
    return _CHANNEL_NOTE.sub(lambda m: f"经{channel_name(m.group(1))}受理", note)


def accepted_note(channel: str) -> str:
    """The note of a case's first history row."""
    return f"经{channel_name(channel)}受理"


def beijing(value: datetime | date | str | None, *, seconds: bool = False) -> str:
    """Beijing time, ``2026-12-04 19:52``. Takes a datetime (naive ones were stored in Beijing
    time, as SQLite hands them back), a date, or an ISO 8601 string with any offset ("+0000",
    "+00:00", "Z"); text that is no timestamp is returned as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return value
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=BEIJING) if value.tzinfo is None else value
        return moment.astimezone(BEIJING).strftime(
            "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
        )
    return value.isoformat()
