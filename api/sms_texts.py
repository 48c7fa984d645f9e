"""What the hotline's text messages say: plain, short Chinese for elderly villagers.

A case number is always written as its 8 digits, with nothing between them, so it can be read
back or typed into a status lookup as it stands. Each fits one 70-character SMS segment, except a
referral, which carries the staff's reason as written. No text ever names the complainant; the
outbox also masks a name that got into staff-written words (``api.outbox``).
"""

from __future__ import annotations

SIGNATURE = "【监督一点通】"  # the registered SMS signature carriers require


def _query_hint(number: str) -> str:
    return f"回复“查询 {number}”可查进度。"


def receipt(number: str, joined: str | None = None) -> str:
    """To the resident, after a phone call, a text or a grid worker filed for them."""
    text = f"{SIGNATURE}您反映的问题已受理，案件号{number}。"
    if joined:
        return text + f"您此前反映的案件{joined}还在办理中，这次的反映已并入该案一起办理。"
    return text + _query_hint(number)


def receipt_for_worker(number: str, joined: str | None = None) -> str:
    """To the grid worker who filed for a resident without a phone: the number to pass on."""
    text = f"{SIGNATURE}您代群众提交的反映已受理，案件号{number}，请告知反映人。"
    if joined:
        text += f"该群众此前反映的案件{joined}还在办理中，已并入该案。"
    return text


def assigned(number: str, unit: str | None) -> str:
    who = unit or "负责的单位"
    return f"{SIGNATURE}您反映的问题（案件号{number}）已转交{who}办理。" + _query_hint(number)


def done(number: str) -> str:
    return (
        f"{SIGNATURE}您的案件{number}已办结，回复“查询 {number}”看答复。"
        "请回复满意、基本满意或不满意，也可来电评价。"
    )


def referred(number: str, reason: str | None) -> str:
    text = f"{SIGNATURE}您反映的问题（案件号{number}）不属于村级小微权力监督事项，已转给对口部门"
    if not reason:
        return text + "。"
    return text + f"：{reason}" + ("" if reason[-1] in "。！？.!?" else "。")


def reopened(number: str) -> str:
    """Also to the others whose cases are joined to it: not "you were unsatisfied"."""
    hint = _query_hint(number)
    return f"{SIGNATURE}您反映的问题（案件号{number}）因群众对办理结果不满意，已重新办理。{hint}"
